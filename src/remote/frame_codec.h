#pragma once
// A frame's tensors as one message body: a small header (magic, version, frame number, tensor
// count), then per tensor its name, type, shape, quantization and raw bytes, little-endian.
// decode_frame checks every length against the message, so a short or foreign message is an
// Error, never a read past its end.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pipecut/runtime.h"

namespace pipecut::remote {

struct Frame {
  uint64_t number = 0;
  std::vector<TensorValue> tensors;
};

std::vector<uint8_t> encode_frame(const Frame& frame);
Frame decode_frame(std::span<const uint8_t> bytes);  // throws pipecut::Error
// The encoded size of a frame holding tensors of these specs (for the startup size check).
int64_t encoded_size(uint64_t number, const std::vector<TensorSpec>& specs);

}  // namespace pipecut::remote
