// SOFTMAX over the last axis. 8-bit: exp of the (non-positive) input differences comes from a
// 256-entry table built at load, the output is round(exp / sum / s_out) + z_out, as TensorFlow
// Lite's table-based kernels compute it.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "runtime/kernels.h"
#include "runtime/quant_math.h"
#include "runtime/simd.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

class SoftmaxKernel : public Kernel {
 public:
  explicit SoftmaxKernel(OpContext& ctx) {
    ctx.require_arity(1, 1);
    const ValueInfo& in = ctx.in(0);
    const ValueInfo& out = ctx.out(0);
    ctx.read_constant(0);
    ctx.require(in.rank() >= 1 && in.shape == out.shape, "input and output shapes differ");
    depth_ = in.shape.back();
    ctx.require(depth_ > 0, "empty last axis");
    rows_ = in.elements() / depth_;
    beta_ = ctx.options().beta;
    // The shift by the row's maximum keeps every exp at most 1 only for beta >= 0.
    ctx.require(std::isfinite(beta_) && beta_ >= 0,
                "beta " + number_text(beta_) + " is not a finite number >= 0");
    input_ = ctx.input_index(0);
    output_ = ctx.output_index(0);
    if (in.type == DType::kFloat32) {
      ctx.require(out.type == DType::kFloat32, "float input needs a float output");
      is_float_ = true;
      return;
    }
    ctx.require(in.quantized && out.quantized,
                std::string("type ") + dtype_name(in.file_type) + " is not supported");
    for (int d = 0; d < 256; ++d) {
      exp_[static_cast<size_t>(d)] =
          static_cast<float>(std::exp(-static_cast<double>(beta_) * in.scale * d));
    }
    out_scale_ = out.scale;
    out_zero_ = out.zero_point;
  }

  void bind(const Bindings& b) override {
    in_ = b.tensor(input_);
    out_ = b.tensor(output_);
  }

  void run() override {
    parallel_for(rows_, 16, [this](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        if (is_float_) {
          row_f32(reinterpret_cast<const float*>(in_) + r * depth_,
                  reinterpret_cast<float*>(out_) + r * depth_);
        } else {
          row_u8(in_ + r * depth_, out_ + r * depth_);
        }
      }
    });
  }

 private:
  void row_u8(const uint8_t* x, uint8_t* y) const {
    uint8_t max = 0;
    for (int64_t i = 0; i < depth_; ++i) max = std::max(max, x[i]);
    float sum = 0;
    for (int64_t i = 0; i < depth_; ++i) sum += exp_[static_cast<size_t>(max - x[i])];
    const float k = 1.f / (sum * out_scale_);
    for (int64_t i = 0; i < depth_; ++i) {
      y[i] = static_cast<uint8_t>(
          requantize(exp_[static_cast<size_t>(max - x[i])] * k, out_zero_, 0, 255));
    }
  }

  void row_f32(const float* x, float* y) const {
    float max = -INFINITY;
    for (int64_t i = 0; i < depth_; ++i) max = std::max(max, x[i]);
    float sum = 0;
    for (int64_t i = 0; i < depth_; ++i) {
      y[i] = std::exp(beta_ * (x[i] - max));
      sum += y[i];
    }
    const float inv = 1.f / sum;
    for (int64_t i = 0; i < depth_; ++i) y[i] *= inv;
  }

  bool is_float_ = false;
  int64_t depth_ = 1, rows_ = 0;
  float beta_ = 1;
  std::array<float, 256> exp_{};
  float out_scale_ = 1;
  int32_t out_zero_ = 0;
  int input_ = -1, output_ = -1;
  const uint8_t* in_ = nullptr;
  uint8_t* out_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_softmax(OpContext& ctx) {
  return std::make_unique<SoftmaxKernel>(ctx);
}

}  // namespace pipecut::runtime
