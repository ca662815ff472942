#include <limits>

#include "pipecut/model.h"

namespace pipecut {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32:
      return "FLOAT32";
    case DType::kFloat16:
      return "FLOAT16";
    case DType::kInt32:
      return "INT32";
    case DType::kUInt8:
      return "UINT8";
    case DType::kInt64:
      return "INT64";
    case DType::kString:
      return "STRING";
    case DType::kBool:
      return "BOOL";
    case DType::kInt16:
      return "INT16";
    case DType::kComplex64:
      return "COMPLEX64";
    case DType::kInt8:
      return "INT8";
    case DType::kFloat64:
      return "FLOAT64";
    case DType::kComplex128:
      return "COMPLEX128";
    case DType::kUInt64:
      return "UINT64";
    case DType::kResource:
      return "RESOURCE";
    case DType::kVariant:
      return "VARIANT";
    case DType::kUInt32:
      return "UINT32";
    case DType::kUInt16:
      return "UINT16";
    case DType::kInt4:
      return "INT4";
    case DType::kBFloat16:
      return "BFLOAT16";
    case DType::kInt2:
      return "INT2";
    case DType::kUInt4:
      return "UINT4";
    case DType::kFloat8E4M3FN:
      return "FLOAT8_E4M3FN";
    case DType::kFloat8E5M2:
      return "FLOAT8_E5M2";
  }
  return "UNKNOWN";
}

int dtype_bits(DType t) {
  switch (t) {
    case DType::kBool:
    case DType::kInt8:
    case DType::kUInt8:
    case DType::kFloat8E4M3FN:
    case DType::kFloat8E5M2:
      return 8;
    case DType::kInt4:
    case DType::kUInt4:
      return 4;
    case DType::kInt2:
      return 2;
    case DType::kFloat16:
    case DType::kBFloat16:
    case DType::kInt16:
    case DType::kUInt16:
      return 16;
    case DType::kFloat32:
    case DType::kInt32:
    case DType::kUInt32:
      return 32;
    case DType::kInt64:
    case DType::kUInt64:
    case DType::kFloat64:
    case DType::kComplex64:
      return 64;
    case DType::kComplex128:
      return 128;
    case DType::kString:
    case DType::kResource:
    case DType::kVariant:
      return 0;
  }
  return 0;
}

bool is_8bit(DType t) {
  return t == DType::kInt8 || t == DType::kUInt8;
}

bool Tensor::has_static_shape() const {
  for (int32_t d : shape_signature) {
    if (d < 0) return false;
  }
  return true;
}

int64_t Tensor::num_elements() const {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;  // the reader has checked dims are >= 0 and cannot overflow
  return n;
}

int64_t Tensor::byte_size() const {
  const int bits = dtype_bits(type);
  return (num_elements() * bits + 7) / 8;
}

std::string shape_text(const std::vector<int32_t>& shape, char separator) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += separator;
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace pipecut
