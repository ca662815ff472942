#pragma once
// NumPy-style broadcasting of two operands to an output shape, collapsed to as few dimensions as
// possible so that the innermost loop runs over contiguous (stride 1) or repeated (stride 0)
// elements.
#include <cstdint>
#include <vector>

namespace pipecut::runtime {

struct Broadcast {
  std::vector<int64_t> dims;  // output dimensions, outermost first (at least one)
  std::vector<int64_t> a, b;  // element strides of the operands per dimension, 0 = repeated
  std::vector<int64_t> out;   // output strides (contiguous)
  int64_t inner() const { return dims.back(); }
  int64_t outer() const;  // product of all but the innermost dimension
  // Element offsets of the operands and the output at the start of outer row `r`.
  void offsets(int64_t r, int64_t* oa, int64_t* ob, int64_t* oo) const;
};

// False when the shapes do not broadcast to exactly `out` (as TensorFlow Lite computes the output
// shape: an output wider than both operands in some dimension is refused too).
bool make_broadcast(const std::vector<int32_t>& a, const std::vector<int32_t>& b,
                    const std::vector<int32_t>& out, Broadcast* result);

}  // namespace pipecut::runtime
