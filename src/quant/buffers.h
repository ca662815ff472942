#pragma once
// Housekeeping of rewritten models.
#include "format/tflite_schema.h"

namespace pipecut {

// Buffers no tensor or metadata entry refers to any more (float weights replaced by their 8-bit
// form, or the other way round) are emptied, so the file holds each weight once.
void drop_unused_buffers(tflite::ModelT& m);

}  // namespace pipecut
