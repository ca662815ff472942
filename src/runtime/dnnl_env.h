#pragma once
// The oneDNN engine and stream of one executable.
#include <dnnl.hpp>

namespace pipecut::runtime {

struct DnnlEnv {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

}  // namespace pipecut::runtime
