// Elementwise activations as ops of their own: RELU, RELU6, RELU_N1_TO_1, LOGISTIC, TANH,
// HARD_SWISH, LEAKY_RELU. An 8-bit input has only 256 values, so the op is a table computed at
// load from the real function: round(f(s_in * (x - z_in)) / s_out) + z_out.
#include <algorithm>
#include <cmath>
#include <functional>

#include "runtime/kernels.h"
#include "runtime/quant_math.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

std::function<double(double)> function_of(OpContext& ctx) {
  const std::string& t = ctx.type();
  if (t == "RELU") return [](double x) { return std::max(x, 0.0); };
  if (t == "RELU6") return [](double x) { return std::clamp(x, 0.0, 6.0); };
  if (t == "RELU_N1_TO_1") return [](double x) { return std::clamp(x, -1.0, 1.0); };
  if (t == "LOGISTIC") return [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  if (t == "TANH") return [](double x) { return std::tanh(x); };
  if (t == "HARD_SWISH") return [](double x) { return x * std::clamp(x + 3.0, 0.0, 6.0) / 6.0; };
  if (t == "LEAKY_RELU") {
    const double alpha = ctx.options().alpha;
    return [alpha](double x) { return x >= 0 ? x : alpha * x; };
  }
  ctx.refuse("no elementwise function");
}

// float32: the function itself, element by element.
class UnaryKernel : public Kernel {
 public:
  UnaryKernel(int input, int output, int64_t count)
      : input_(input), output_(output), count_(count) {}
  std::function<double(double)> f;

  void bind(const Bindings& b) override {
    in_ = reinterpret_cast<const float*>(b.tensor(input_));
    out_ = reinterpret_cast<float*>(b.tensor(output_));
  }
  void run() override {
    parallel_for(count_, 1 << 14, [this](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out_[i] = static_cast<float>(f(in_[i]));
    });
  }

 private:
  int input_, output_;
  int64_t count_;
  const float* in_ = nullptr;
  float* out_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_unary(OpContext& ctx) {
  ctx.require_arity(1, 1);
  const ValueInfo& in = ctx.in(0);
  const ValueInfo& out = ctx.out(0);
  ctx.read_constant(0);
  ctx.require(in.shape == out.shape, "input and output shapes differ");
  std::function<double(double)> f = function_of(ctx);
  if (in.type == DType::kFloat32) {
    ctx.require(out.type == DType::kFloat32, "float input needs a float output");
    auto k = std::make_unique<UnaryKernel>(ctx.input_index(0), ctx.output_index(0), in.elements());
    k->f = std::move(f);
    return k;
  }
  ctx.require(in.quantized && out.quantized, std::string("types ") + dtype_name(in.file_type) +
                                                 " -> " + dtype_name(out.file_type) +
                                                 " are not supported");
  return make_table_kernel(ctx, make_lut(in, out, f));
}

}  // namespace pipecut::runtime
