// TRANSPOSE with a constant permutation, up to 6 dimensions, any element type: output dimension
// d walks input dimension perm[d].
#include <vector>

#include "runtime/kernels.h"
#include "runtime/strided_copy.h"

namespace pipecut::runtime {

std::unique_ptr<Kernel> make_transpose(OpContext& ctx) {
  ctx.require(ctx.num_inputs() >= 2 && ctx.num_outputs() == 1, "expects input and perm");
  const ValueInfo& in = ctx.in(0);
  const ValueInfo& out = ctx.out(0);
  const int rank = in.rank();
  ctx.require(rank <= 6, "input " + shape_text(in.shape) + " has more than 6 dimensions");
  const std::vector<int64_t> perm = ctx.constant_ints(1);
  ctx.require(static_cast<int>(perm.size()) == rank && out.rank() == rank,
              "perm must hold " + std::to_string(rank) + " axes");
  std::vector<int64_t> in_strides(static_cast<size_t>(rank), 1);
  for (int d = rank - 1; d-- > 0;)
    in_strides[static_cast<size_t>(d)] =
        in_strides[static_cast<size_t>(d + 1)] * in.shape[static_cast<size_t>(d + 1)];
  std::vector<bool> used(static_cast<size_t>(rank), false);
  StridedView view;
  for (int d = 0; d < rank; ++d) {
    const int64_t p = perm[static_cast<size_t>(d)];
    ctx.require(p >= 0 && p < rank && !used[static_cast<size_t>(p)],
                "perm is not a permutation of 0.." + std::to_string(rank - 1));
    used[static_cast<size_t>(p)] = true;
    ctx.require(
        out.shape[static_cast<size_t>(d)] == in.shape[static_cast<size_t>(p)],
        "output " + shape_text(out.shape) + " is not the permuted input " + shape_text(in.shape));
    view.dims.push_back(in.shape[static_cast<size_t>(p)]);
    view.strides.push_back(in_strides[static_cast<size_t>(p)]);
  }
  return make_strided_copy(ctx, std::move(view));
}

}  // namespace pipecut::runtime
