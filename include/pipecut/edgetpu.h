#pragma once
// Facts about the Coral Edge TPU that the analysis needs before any compiler is involved.
#include <cstdint>

namespace pipecut {

// Whether the Edge TPU compiler can map this builtin op (coral.ai operation compatibility table;
// 8-bit tensors assumed). A cut right after an op it cannot map would end a segment on the CPU.
bool edgetpu_supports_op(int32_t builtin_code);

}  // namespace pipecut
