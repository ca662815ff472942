#include "runtime/dnnl_env.h"

namespace pipecut::runtime {

dnnl::memory::data_type dnnl_type(DType type) {
  using dt = dnnl::memory::data_type;
  switch (type) {
    case DType::kUInt8:
      return dt::u8;
    case DType::kInt8:
      return dt::s8;
    case DType::kInt32:
      return dt::s32;
    case DType::kFloat32:
      return dt::f32;
    default:
      return dt::undef;
  }
}

}  // namespace pipecut::runtime
