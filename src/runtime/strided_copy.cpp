#include "runtime/strided_copy.h"

#include <algorithm>
#include <cstring>

#include "runtime/quant_math.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

// Drops dimensions of one element and merges neighbours that the input walks as one (a run of
// NHWC -> NCHW keeps H and W together), so the inner loop is as long as it can be.
StridedView collapse(const StridedView& v) {
  StridedView c;
  c.base = v.base;
  for (size_t d = 0; d < v.dims.size(); ++d) {
    if (v.dims[d] == 1) continue;
    if (!c.dims.empty() && c.strides.back() == v.strides[d] * v.dims[d]) {
      c.dims.back() *= v.dims[d];
      c.strides.back() = v.strides[d];
      continue;
    }
    c.dims.push_back(v.dims[d]);
    c.strides.push_back(v.strides[d]);
  }
  if (c.dims.empty()) {
    c.dims = {1};
    c.strides = {1};
  }
  return c;
}

template <typename T>
void gather_row(uint8_t* __restrict out, const uint8_t* __restrict in, int64_t n, int64_t stride) {
  T* o = reinterpret_cast<T*>(out);
  const T* x = reinterpret_cast<const T*>(in);
  for (int64_t i = 0; i < n; ++i) std::memcpy(o + i, x + i * stride, sizeof(T));
}

class StridedCopyKernel : public Kernel {
 public:
  StridedCopyKernel(int input, int output, int esize, StridedView view)
      : input_(input), output_(output), esize_(esize), v_(std::move(view)) {
    rows_ = 1;
    for (size_t d = 0; d + 1 < v_.dims.size(); ++d) rows_ *= v_.dims[d];
  }

  void bind(const Bindings& b) override {
    in_ = b.tensor(input_);
    out_ = b.tensor(output_);
  }

  void run() override {
    const int64_t inner = v_.dims.back(), stride = v_.strides.back();
    const size_t rank = v_.dims.size();
    parallel_for(rows_, std::max<int64_t>(1, 8192 / inner), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        int64_t rest = r, offset = v_.base;  // input element of the row's first value
        for (size_t d = rank - 1; d-- > 0;) {
          offset += (rest % v_.dims[d]) * v_.strides[d];
          rest /= v_.dims[d];
        }
        uint8_t* out = out_ + r * inner * esize_;
        const uint8_t* in = in_ + offset * esize_;
        if (stride == 1) {
          std::memcpy(out, in, static_cast<size_t>(inner * esize_));
          continue;
        }
        switch (esize_) {
          case 1:
            gather_row<uint8_t>(out, in, inner, stride);
            break;
          case 2:
            gather_row<uint16_t>(out, in, inner, stride);
            break;
          case 4:
            gather_row<uint32_t>(out, in, inner, stride);
            break;
          default:
            gather_row<uint64_t>(out, in, inner, stride);
            break;
        }
      }
    });
  }

 private:
  int input_, output_, esize_;
  StridedView v_;
  int64_t rows_ = 1;
  const uint8_t* in_ = nullptr;
  uint8_t* out_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_strided_copy(OpContext& ctx, StridedView view) {
  const ValueInfo& in = ctx.in(0);
  const ValueInfo& out = ctx.out(0);
  ctx.require(in.type == out.type && in.quantized == out.quantized,
              std::string("input type ") + dtype_name(in.file_type) + " and output type " +
                  dtype_name(out.file_type) + " differ");
  ctx.require(!in.quantized || same_quantization(in, out),
              "input and output must share one scale and zero point");
  const int esize = element_size(in.type);
  ctx.require(esize == 1 || esize == 2 || esize == 4 || esize == 8,
              std::string("type ") + dtype_name(in.file_type) + " is not supported");
  int64_t count = 1;
  for (int64_t d : view.dims) count *= d;
  ctx.require(count == out.elements(), "output " + shape_text(out.shape) + " does not hold the " +
                                           std::to_string(count) + " selected values");
  ctx.read_constant(0);
  StridedView v = collapse(view);
  if (v.base == 0 && v.strides.back() == 1 && v.dims.size() == 1 && count == in.elements()) {
    ctx.alias(0, 0);  // the whole input in its own order
    return nullptr;
  }
  return std::make_unique<StridedCopyKernel>(ctx.input_index(0), ctx.output_index(0), esize,
                                             std::move(v));
}

}  // namespace pipecut::runtime
