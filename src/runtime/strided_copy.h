#pragma once
// The byte-moving core of TRANSPOSE, SLICE and STRIDED_SLICE: the output, in row-major order,
// gathers the input elements at base + sum over d of index[d] x stride[d].
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/kernel.h"

namespace pipecut::runtime {

struct StridedView {
  std::vector<int64_t> dims;     // output dimensions, outermost first
  std::vector<int64_t> strides;  // input element strides per output dimension (may be negative)
  int64_t base = 0;              // input element of the output's first element
};

// Copies input 0 into output 0 through `view`. Checks that input and output share a type and
// quantization and that the view holds the output's element count; the caller checks that the
// view stays inside the input. An identity view makes output 0 alias input 0 (returns null).
std::unique_ptr<Kernel> make_strided_copy(OpContext& ctx, StridedView view);

}  // namespace pipecut::runtime
