#pragma once
// The oneDNN engine and stream of one executable, and small helpers for the kernels that use
// oneDNN primitives.
#include <dnnl.hpp>
#include <string>

#include "pipecut/model.h"

namespace pipecut::runtime {

struct DnnlEnv {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

// oneDNN data type of a stored type (u8, s8, s32, f32); undef when there is none.
dnnl::memory::data_type dnnl_type(DType type);

// "brgconv:avx512_core_vnni" etc.; a reference implementation name contains "ref".
inline bool is_reference_impl(const std::string& impl) {
  return impl.find("ref") != std::string::npos;
}

}  // namespace pipecut::runtime
