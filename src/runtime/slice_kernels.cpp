// SLICE and STRIDED_SLICE with constant begin, size, end and strides, any element type.
// STRIDED_SLICE follows TensorFlow Lite's StartForAxis and StopForAxis (negative indices count
// from the end, masks take the whole axis, out-of-range values clamp); ellipsis and new axes are
// refused.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "runtime/kernels.h"
#include "runtime/strided_copy.h"

namespace pipecut::runtime {

namespace {

std::vector<int64_t> contiguous_strides(const std::vector<int32_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

// The output shape a view gives, without its shrunk axes, must be the stored one.
void check_output(OpContext& ctx, const std::vector<int32_t>& want) {
  const ValueInfo& out = ctx.out(0);
  ctx.require(out.shape == want, "output " + shape_text(out.shape) +
                                     " does not match the computed " + shape_text(want));
}

}  // namespace

std::unique_ptr<Kernel> make_slice(OpContext& ctx) {
  ctx.require(ctx.num_inputs() >= 3 && ctx.num_outputs() == 1, "expects input, begin and size");
  const ValueInfo& in = ctx.in(0);
  const int rank = in.rank();
  const std::vector<int64_t> begin = ctx.constant_ints(1), size = ctx.constant_ints(2);
  ctx.require(static_cast<int>(begin.size()) == rank && static_cast<int>(size.size()) == rank,
              "begin and size must hold " + std::to_string(rank) + " values");
  const std::vector<int64_t> strides = contiguous_strides(in.shape);
  StridedView view;
  std::vector<int32_t> shape;
  for (int d = 0; d < rank; ++d) {
    const size_t k = static_cast<size_t>(d);
    const int64_t dim = in.shape[k], b = begin[k];
    const int64_t n = size[k] == -1 ? dim - b : size[k];       // -1: to the end
    ctx.require(b >= 0 && b <= dim && n >= 0 && n <= dim - b,  // no b + n: it may overflow
                "begin " + std::to_string(b) + " and size " + std::to_string(size[k]) +
                    " leave axis " + std::to_string(d) + " of " + std::to_string(dim));
    view.base += b * strides[k];
    view.dims.push_back(n);
    view.strides.push_back(strides[k]);
    shape.push_back(static_cast<int32_t>(n));
  }
  check_output(ctx, shape);
  return make_strided_copy(ctx, std::move(view));
}

std::unique_ptr<Kernel> make_strided_slice(OpContext& ctx) {
  ctx.require(ctx.num_inputs() >= 4 && ctx.num_outputs() == 1,
              "expects input, begin, end and strides");
  const OpOptions& o = ctx.options();
  ctx.require(o.ellipsis_mask == 0 && o.new_axis_mask == 0,
              "ellipsis_mask and new_axis_mask are not supported");
  const ValueInfo& in = ctx.in(0);
  const int rank = in.rank();
  const std::vector<int64_t> begin = ctx.constant_ints(1), end = ctx.constant_ints(2),
                             step = ctx.constant_ints(3);
  const size_t given = begin.size();
  ctx.require(end.size() == given && step.size() == given && static_cast<int>(given) <= rank,
              "begin, end and strides must hold the same number of values, at most " +
                  std::to_string(rank));
  const std::vector<int64_t> strides = contiguous_strides(in.shape);
  StridedView view;
  std::vector<int32_t> shape;
  for (int d = 0; d < rank; ++d) {
    const size_t k = static_cast<size_t>(d);
    const int64_t dim = in.shape[k];
    const bool listed = k < given;  // axes past the given values are taken whole
    // Hostile values are clamped first, so the arithmetic below cannot overflow; any value
    // beyond the axis means the same as the axis' own bound.
    constexpr int64_t kBig = int64_t{1} << 40;
    const int64_t s = listed ? std::clamp<int64_t>(step[k], -kBig, kBig) : 1;
    ctx.require(s != 0, "stride of axis " + std::to_string(d) + " is 0");
    const bool shrink = listed && (o.shrink_axis_mask >> d & 1);
    // StartForAxis
    int64_t start = listed ? std::clamp<int64_t>(begin[k], -kBig, kBig) : 0;
    if (!listed || (o.begin_mask >> d & 1)) start = s > 0 ? INT64_MIN / 2 : INT64_MAX / 2;
    if (start < 0) start += dim;
    start = s > 0 ? std::clamp<int64_t>(start, 0, dim) : std::clamp<int64_t>(start, -1, dim - 1);
    // StopForAxis
    int64_t stop = listed ? std::clamp<int64_t>(end[k], -kBig, kBig) : 0;
    if (o.slice_offset && listed) stop += start;
    if (!listed || (o.end_mask >> d & 1)) stop = s > 0 ? INT64_MAX / 2 : INT64_MIN / 2;
    if (stop < 0) stop += dim;
    stop = s > 0 ? std::clamp<int64_t>(stop, 0, dim) : std::clamp<int64_t>(stop, -1, dim - 1);
    if (shrink) {
      ctx.require(start >= 0 && start < dim && s > 0,
                  "shrink_axis_mask on axis " + std::to_string(d) + " selects no value");
      stop = start + 1;
    }
    const int64_t n = s > 0 ? std::max<int64_t>(0, (stop - start + s - 1) / s)
                            : std::max<int64_t>(0, (start - stop - s - 1) / -s);
    view.base += n > 0 ? start * strides[k] : 0;
    view.dims.push_back(n);
    view.strides.push_back(s * strides[k]);
    if (!shrink) shape.push_back(static_cast<int32_t>(n));
  }
  check_output(ctx, shape);
  return make_strided_copy(ctx, std::move(view));
}

}  // namespace pipecut::runtime
