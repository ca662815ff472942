#include "runtime/value_info.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace pipecut::runtime {

int64_t ValueInfo::elements() const {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

int64_t ValueInfo::bytes() const {
  return elements() * element_size(type);
}

int32_t ValueInfo::dim(int i) const {
  if (i < 0) i += rank();
  return i >= 0 && i < rank() ? shape[static_cast<size_t>(i)] : 1;
}

int element_size(DType type) {
  switch (type) {
    case DType::kUInt8:
    case DType::kInt8:
    case DType::kBool:
      return 1;
    case DType::kInt16:
    case DType::kFloat16:
      return 2;
    case DType::kFloat32:
    case DType::kInt32:
      return 4;
    case DType::kInt64:
      return 8;
    default:
      return 0;
  }
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

bool fits_float(double multiplier) {
  return std::isfinite(multiplier) &&
         std::abs(multiplier) < static_cast<double>(std::numeric_limits<float>::max());
}

std::string quantization_problem(const Tensor& tensor) {
  const bool is_int8 = tensor.type == DType::kInt8;
  if (!is_int8 && tensor.type != DType::kUInt8) return "";
  const Quantization& q = tensor.quant;
  const std::string what = "tensor " + tensor.name + ": ";
  // Per-channel weights give a channel whose weights are all zero a scale of 0 (real converters
  // do): its multiplier is 0, which computes. Elsewhere a scale is divided by.
  const bool zero_allowed = tensor.is_constant() && q.scale.size() > 1;
  for (float s : q.scale) {
    if (!(std::isnormal(s) && s > 0) && !(zero_allowed && s == 0))
      return what + "quantization scale " + number_text(s) + " is not a positive normal float";
  }
  if (q.zero_point.size() > 1 && q.zero_point.size() != q.scale.size())
    return what + std::to_string(q.zero_point.size()) + " zero points for " +
           std::to_string(q.scale.size()) + " scales";
  const int64_t lo = is_int8 ? -128 : 0, hi = is_int8 ? 127 : 255;
  for (int64_t z : q.zero_point) {
    if (z < lo || z > hi)
      return what + "zero point " + std::to_string(z) + " is outside " + dtype_name(tensor.type) +
             "'s range";
  }
  return "";
}

ValueInfo describe_tensor(const Tensor& tensor) {
  ValueInfo v;
  v.tensor = tensor.index;
  v.name = tensor.name;
  v.file_type = tensor.type;
  v.type = tensor.type;
  v.shape = tensor.shape;
  v.constant = tensor.is_constant();
  v.file_quant = tensor.quant;
  const bool eight_bit = tensor.type == DType::kInt8 || tensor.type == DType::kUInt8;
  if (eight_bit && tensor.quant.scale.size() == 1) {
    v.quantized = true;
    v.scale = tensor.quant.scale[0];
    // Any 64-bit zero point is held here; quantization_problem() refuses one outside the type.
    const int64_t zp =
        std::clamp<int64_t>(tensor.quant.zero_point.empty() ? 0 : tensor.quant.zero_point[0],
                            -(int64_t{1} << 24), int64_t{1} << 24);
    v.shift = tensor.type == DType::kInt8 ? 128 : 0;
    v.zero_point = static_cast<int32_t>(zp) + v.shift;
    v.type = DType::kUInt8;
  }
  return v;
}

}  // namespace pipecut::runtime
