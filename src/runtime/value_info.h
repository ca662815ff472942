#pragma once
// How the CPU runtime stores one tensor of the model. Every 8-bit quantized tensor is kept as
// uint8: an int8 value v is stored as v + 128 with its zero point + 128, the same real number, so
// that oneDNN always sees u8 activations (its fastest int8 path). Conversion happens only at the
// model's inputs and outputs.
#include <cstdint>
#include <string>
#include <vector>

#include "pipecut/model.h"

namespace pipecut::runtime {

struct ValueInfo {
  int tensor = -1;
  std::string name;
  DType file_type = DType::kFloat32;  // type in the .tflite file
  DType type = DType::kFloat32;       // stored type: kUInt8 for every 8-bit quantized tensor
  std::vector<int32_t> shape;
  bool quantized = false;  // 8-bit with one scale and zero point
  float scale = 1.f;
  int32_t zero_point = 0;  // in the stored (uint8) domain
  int32_t shift = 0;       // stored value = file value + shift (128 for int8, else 0)
  bool constant = false;
  Quantization file_quant;  // as the file states it

  int64_t elements() const;
  int64_t bytes() const;
  int rank() const { return static_cast<int>(shape.size()); }
  // Dimension `i` counted from the end when negative; 1 beyond the rank.
  int32_t dim(int i) const;
  // Lowest and highest stored values of an 8-bit tensor (0 and 255).
  static constexpr int32_t kMin = 0;
  static constexpr int32_t kMax = 255;
};

// Stored type and quantization of a model tensor.
ValueInfo describe_tensor(const Tensor& tensor);

// What is wrong with an 8-bit tensor's quantization for the runtime, or "" when nothing is (and
// for other types, whose quantization the runtime does not read): each scale must be a positive,
// finite normal float (or 0 in per-channel constant weights: an all-zero channel), each zero point
// inside the type's range, and one zero point or one per scale (the reader checks that
// per-channel scales match their axis). Arithmetic on anything else has no meaning and could
// overflow.
std::string quantization_problem(const Tensor& tensor);

// Whether a requantization multiplier (a ratio of scales) is finite as a float: the kernels
// multiply in float, and an infinite multiplier turns a zero accumulator into NaN.
bool fits_float(double multiplier);

// A number as printf's %g writes it ("1e-40", "6e+11"), for error messages.
std::string number_text(double value);

// Element size in bytes of a stored type (1, 2, 4 or 8); 0 for types the runtime cannot hold.
int element_size(DType type);

}  // namespace pipecut::runtime
