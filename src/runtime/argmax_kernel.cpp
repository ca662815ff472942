// ARG_MAX and ARG_MIN along one axis; ties go to the lowest index, as in TensorFlow Lite. Stored
// 8-bit values keep the order of the file's values, so they compare directly.
#include <cstring>

#include "runtime/kernels.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

template <typename T, typename Index>
void arg_rows(const T* in, Index* out, int64_t count, int64_t inner, bool max, int64_t begin,
              int64_t end) {
  for (int64_t k = begin; k < end; ++k) {
    const int64_t o = k / inner, i = k % inner;
    const T* p = in + o * count * inner + i;
    T best = p[0];
    int64_t where = 0;
    for (int64_t r = 1; r < count; ++r) {  // branch-free: data-dependent branches mispredict
      const T v = p[r * inner];
      const bool better = max ? v > best : v < best;
      where = better ? r : where;
      best = better ? v : best;
    }
    out[k] = static_cast<Index>(where);
  }
}

class ArgKernel : public Kernel {
 public:
  ArgKernel(OpContext& ctx, bool max) : max_(max) {
    ctx.require(ctx.num_inputs() >= 2 && ctx.num_outputs() == 1, "expects input and axis");
    const ValueInfo& in = ctx.in(0);
    const ValueInfo& out = ctx.out(0);
    ctx.read_constant(0);
    const int axis = ctx.normalized_axis(ctx.axis_input(1), in.rank());
    float_ = in.type == DType::kFloat32;
    ctx.require(float_ || in.quantized || in.type == DType::kUInt8 || in.type == DType::kInt32,
                std::string("input type ") + dtype_name(in.file_type) + " is not supported");
    int32_ = in.type == DType::kInt32;
    ctx.require(out.type == DType::kInt32 || out.type == DType::kInt64,
                std::string("output type ") + dtype_name(out.file_type) + " is not supported");
    out64_ = out.type == DType::kInt64;
    outer_ = inner_ = 1;
    for (int d = 0; d < in.rank(); ++d) {
      const int64_t s = in.shape[static_cast<size_t>(d)];
      if (d < axis)
        outer_ *= s;
      else if (d == axis)
        count_ = s;
      else
        inner_ *= s;
    }
    ctx.require(count_ > 0 && out.elements() == outer_ * inner_,
                "output " + shape_text(out.shape) + " does not match the input without the axis");
    input_ = ctx.input_index(0);
    output_ = ctx.output_index(0);
  }
  void bind(const Bindings& b) override {
    in_ = b.tensor(input_);
    out_ = b.tensor(output_);
  }
  void run() override {
    parallel_for(outer_ * inner_, 1024, [this](int64_t begin, int64_t end) {
      if (out64_)
        dispatch(reinterpret_cast<int64_t*>(out_), begin, end);
      else
        dispatch(reinterpret_cast<int32_t*>(out_), begin, end);
    });
  }

 private:
  template <typename Index>
  void dispatch(Index* out, int64_t begin, int64_t end) const {
    if (float_)
      arg_rows(reinterpret_cast<const float*>(in_), out, count_, inner_, max_, begin, end);
    else if (int32_)
      arg_rows(reinterpret_cast<const int32_t*>(in_), out, count_, inner_, max_, begin, end);
    else
      arg_rows(in_, out, count_, inner_, max_, begin, end);
  }

  bool max_;
  bool float_ = false, int32_ = false, out64_ = false;
  int64_t outer_ = 1, count_ = 1, inner_ = 1;
  int input_ = -1, output_ = -1;
  const uint8_t* in_ = nullptr;
  uint8_t* out_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_arg_max(OpContext& ctx) {
  return std::make_unique<ArgKernel>(ctx, true);
}
std::unique_ptr<Kernel> make_arg_min(OpContext& ctx) {
  return std::make_unique<ArgKernel>(ctx, false);
}

}  // namespace pipecut::runtime
