// QUANTIZE (float -> 8-bit, and 8-bit requantization) and DEQUANTIZE (8-bit -> float). 8-bit maps
// go through a 256-entry table built at load, which makes requantization exact (TensorFlow
// Lite's Requantize); a requantization that only moves int8 to uint8 (or back) at the same
// scale is the identity on stored values, so the output aliases the input.
#include <array>
#include <cmath>

#include "runtime/kernels.h"
#include "runtime/quant_math.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

enum class Map { kQuantize, kDequantize };

class QuantizeKernel : public Kernel {
 public:
  QuantizeKernel(Map map, int input, int output, int64_t count)
      : map_(map), input_(input), output_(output), count_(count) {}

  std::array<float, 256> to_float{};
  float scale = 1;
  int32_t zero = 0;  // stored zero point of a quantized output

  void bind(const Bindings& b) override {
    in_ = b.tensor(input_);
    out_ = b.tensor(output_);
  }

  void run() override {
    parallel_for(count_, 1 << 15, [this](int64_t begin, int64_t end) {
      switch (map_) {
        case Map::kDequantize: {
          float* out = reinterpret_cast<float*>(out_);
          for (int64_t i = begin; i < end; ++i) out[i] = to_float[in_[i]];
          break;
        }
        case Map::kQuantize: {
          const float* in = reinterpret_cast<const float*>(in_);
          for (int64_t i = begin; i < end; ++i) {
            const float q = std::round(in[i] / scale) + static_cast<float>(zero);
            out_[i] = static_cast<uint8_t>(std::min(std::max(q, 0.f), 255.f));
          }
          break;
        }
      }
    });
  }

 private:
  Map map_;
  int input_, output_;
  int64_t count_;
  const uint8_t* in_ = nullptr;
  uint8_t* out_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_quantize(OpContext& ctx) {
  ctx.require_arity(1, 1);
  const ValueInfo& in = ctx.in(0);
  const ValueInfo& out = ctx.out(0);
  ctx.read_constant(0);
  ctx.require(in.shape == out.shape, "input and output shapes differ");
  ctx.require(out.quantized, std::string("output type ") + dtype_name(out.file_type) +
                                 " is not supported (8-bit with one scale)");
  if (in.type == DType::kFloat32) {
    auto k = std::make_unique<QuantizeKernel>(Map::kQuantize, ctx.input_index(0),
                                              ctx.output_index(0), in.elements());
    k->scale = out.scale;
    k->zero = out.zero_point;
    return k;
  }
  ctx.require(in.quantized,
              std::string("input type ") + dtype_name(in.file_type) + " is not supported");
  return make_table_or_alias(ctx, requantize_lut(in, out));
}

std::unique_ptr<Kernel> make_dequantize(OpContext& ctx) {
  ctx.require_arity(1, 1);
  const ValueInfo& in = ctx.in(0);
  const ValueInfo& out = ctx.out(0);
  ctx.read_constant(0);
  ctx.require(in.shape == out.shape, "input and output shapes differ");
  ctx.require(in.quantized && out.type == DType::kFloat32,
              std::string("types ") + dtype_name(in.file_type) + " -> " +
                  dtype_name(out.file_type) +
                  " are not supported (8-bit with one scale -> float32)");
  auto k = std::make_unique<QuantizeKernel>(Map::kDequantize, ctx.input_index(0),
                                            ctx.output_index(0), in.elements());
  for (int x = 0; x < 256; ++x)
    k->to_float[static_cast<size_t>(x)] = static_cast<float>(x - in.zero_point) * in.scale;
  return k;
}

}  // namespace pipecut::runtime
