// PAD and PADV2: fill with the pad value (the zero point, a real 0, for PAD; the given constant for
// PADV2), then copy the input rows into place.
#include <cstring>
#include <vector>

#include "runtime/kernels.h"
#include "runtime/quant_math.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

class PadKernel : public Kernel {
 public:
  PadKernel(OpContext& ctx) {
    ctx.require(ctx.num_inputs() >= 2 && ctx.num_outputs() == 1, "expects input and paddings");
    const ValueInfo& in = ctx.in(0);
    const ValueInfo& out = ctx.out(0);
    ctx.read_constant(0);
    ctx.require(in.type == out.type && in.quantized == out.quantized,
                "input and output types differ");
    ctx.require(same_quantization(in, out), "input and output must share one scale and zero point");
    esize_ = element_size(in.type);
    ctx.require(esize_ > 0, std::string("type ") + dtype_name(in.file_type) + " is not supported");
    const std::vector<int64_t> pads = ctx.constant_ints(1);
    const int rank = in.rank();
    ctx.require(static_cast<int>(pads.size()) == 2 * rank && out.rank() == rank,
                "paddings must be [" + std::to_string(rank) + ", 2]");
    in_shape_.assign(in.shape.begin(), in.shape.end());
    out_shape_.assign(out.shape.begin(), out.shape.end());
    before_.resize(static_cast<size_t>(rank));
    for (int d = 0; d < rank; ++d) {
      const int64_t b = pads[static_cast<size_t>(2 * d)], a = pads[static_cast<size_t>(2 * d + 1)];
      ctx.require(b >= 0 && a >= 0, "negative paddings are not supported");
      ctx.require(in.shape[static_cast<size_t>(d)] + b + a == out.shape[static_cast<size_t>(d)],
                  "output " + shape_text(out.shape) + " does not match the padded input");
      before_[static_cast<size_t>(d)] = b;
    }
    // Pad value, one element in the stored domain.
    value_.assign(static_cast<size_t>(esize_), 0);
    if (in.quantized) value_[0] = static_cast<uint8_t>(in.zero_point);
    if (ctx.type() == "PADV2" && ctx.has_input(2)) {
      const Tensor& c = ctx.in_tensor(2);
      ctx.require(
          c.is_constant() && c.type == in.file_type && static_cast<int>(c.data.size()) >= esize_,
          "constant_values must be a constant of the input's type");
      std::memcpy(value_.data(), c.data.data(), static_cast<size_t>(esize_));
      if (in.quantized) value_[0] = static_cast<uint8_t>(value_[0] + in.shift);
    }
    if (rank == 0) {
      in_shape_ = out_shape_ = {1};
      before_ = {0};
    }
    // Trailing dimensions without padding are copied as one row.
    while (in_shape_.size() > 1 && before_.back() == 0 && in_shape_.back() == out_shape_.back()) {
      const int64_t last = in_shape_.back();
      in_shape_.pop_back();
      out_shape_.pop_back();
      before_.pop_back();
      in_shape_.back() *= last;
      out_shape_.back() *= last;
      before_.back() *= last;
    }
    input_ = ctx.input_index(0);
    output_ = ctx.output_index(0);
    inner_ = in_shape_.back() * esize_;
    rows_ = 1;
    for (size_t d = 0; d + 1 < in_shape_.size(); ++d) rows_ *= in_shape_[d];
    out_bytes_ = out.bytes();
  }

  void bind(const Bindings& b) override {
    in_ = b.tensor(input_);
    out_ = b.tensor(output_);
  }

  void run() override {
    if (esize_ == 1) {
      std::memset(out_, value_[0], static_cast<size_t>(out_bytes_));
    } else {
      for (int64_t i = 0; i < out_bytes_; i += esize_)
        std::memcpy(out_ + i, value_.data(), static_cast<size_t>(esize_));
    }
    const size_t rank = in_shape_.size();
    parallel_for(rows_, 64, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        // Output offset of input row r (all dimensions but the last).
        int64_t rest = r, offset = 0, stride = out_shape_.back();
        offset = before_[rank - 1];
        for (size_t d = rank - 1; d-- > 0;) {
          const int64_t idx = rest % in_shape_[d];
          rest /= in_shape_[d];
          offset += (idx + before_[d]) * stride;
          stride *= out_shape_[d];
        }
        std::memcpy(out_ + offset * esize_, in_ + r * inner_, static_cast<size_t>(inner_));
      }
    });
  }

 private:
  int esize_ = 1;
  std::vector<int64_t> in_shape_, out_shape_, before_;
  std::vector<uint8_t> value_;
  int input_ = -1, output_ = -1;
  int64_t inner_ = 0, rows_ = 0, out_bytes_ = 0;
  const uint8_t* in_ = nullptr;
  uint8_t* out_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_pad(OpContext& ctx) {
  return std::make_unique<PadKernel>(ctx);
}

}  // namespace pipecut::runtime
