// MEAN, SUM, REDUCE_MAX and REDUCE_MIN over constant axes. The common layout [outer][reduced]
// [inner] (MEAN over H and W of NHWC) accumulates whole channel rows at once; other axis sets go
// through a general index walk. 8-bit MEAN sums the centred inputs exactly and rounds once,
// half away from zero: round(sum * s_in / (s_out * count)) + z_out.
#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/kernels.h"
#include "runtime/quant_math.h"
#include "runtime/simd.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

enum class Reduce { kMean, kSum, kMax, kMin };

constexpr int kBlock = 1024;

struct ReduceArgs {
  Reduce op = Reduce::kMean;
  bool is_float = false;
  int64_t outer = 1, count = 1, inner = 1;  // fast layout
  int32_t in_zero = 0, out_zero = 0;
  double factor = 1;  // multiplies the centred sum (8-bit) or the sum (float)
  Lut lut{};          // 8-bit max/min requantization
  bool use_lut = false;
  const uint8_t* in = nullptr;
  uint8_t* out = nullptr;
};

uint8_t finish_u8(const ReduceArgs& a, int64_t sum_or_extreme) {
  if (a.op == Reduce::kMax || a.op == Reduce::kMin) {
    const uint8_t v = static_cast<uint8_t>(sum_or_extreme);
    return a.use_lut ? a.lut[v] : v;
  }
  const double r = std::round(static_cast<double>(sum_or_extreme) * a.factor) + a.out_zero;
  return static_cast<uint8_t>(std::clamp(r, 0.0, 255.0));
}

PIPECUT_MULTIVERSION
void reduce_rows_u8(const ReduceArgs& a, int64_t begin, int64_t end) {
  int32_t acc[kBlock];
  for (int64_t k = begin; k < end; ++k) {
    const int64_t blocks = (a.inner + kBlock - 1) / kBlock;
    const int64_t o = k / blocks, c0 = (k % blocks) * kBlock;
    const int len = static_cast<int>(std::min<int64_t>(kBlock, a.inner - c0));
    const uint8_t* base = a.in + o * a.count * a.inner + c0;
    if (a.op == Reduce::kMax || a.op == Reduce::kMin) {
      const bool max = a.op == Reduce::kMax;
      for (int c = 0; c < len; ++c) acc[c] = max ? 0 : 255;
      for (int64_t r = 0; r < a.count; ++r) {
        const uint8_t* p = base + r * a.inner;
        if (max) {
          for (int c = 0; c < len; ++c) acc[c] = std::max<int32_t>(acc[c], p[c]);
        } else {
          for (int c = 0; c < len; ++c) acc[c] = std::min<int32_t>(acc[c], p[c]);
        }
      }
    } else {
      for (int c = 0; c < len; ++c) acc[c] = 0;
      for (int64_t r = 0; r < a.count; ++r) {
        const uint8_t* p = base + r * a.inner;
        for (int c = 0; c < len; ++c) acc[c] += p[c];
      }
    }
    uint8_t* out = a.out + o * a.inner + c0;
    const int64_t centre =
        (a.op == Reduce::kMean || a.op == Reduce::kSum) ? int64_t{a.in_zero} * a.count : 0;
    for (int c = 0; c < len; ++c) out[c] = finish_u8(a, acc[c] - centre);
  }
}

void reduce_rows_f32(const ReduceArgs& a, int64_t begin, int64_t end) {
  const float* in = reinterpret_cast<const float*>(a.in);
  float* outp = reinterpret_cast<float*>(a.out);
  for (int64_t k = begin; k < end; ++k) {
    const int64_t o = k / a.inner, c = k % a.inner;
    const float* p = in + o * a.count * a.inner + c;
    float v = a.op == Reduce::kMax ? -INFINITY : a.op == Reduce::kMin ? INFINITY : 0.f;
    for (int64_t r = 0; r < a.count; ++r) {
      const float x = p[r * a.inner];
      v = a.op == Reduce::kMax ? std::max(v, x) : a.op == Reduce::kMin ? std::min(v, x) : v + x;
    }
    outp[o * a.inner + c] = a.op == Reduce::kMean ? v / static_cast<float>(a.count) : v;
  }
}

class ReduceKernel : public Kernel {
 public:
  ReduceKernel(OpContext& ctx, Reduce op) {
    ctx.require(ctx.num_inputs() >= 2 && ctx.num_outputs() == 1, "expects input and axes");
    const ValueInfo& in = ctx.in(0);
    const ValueInfo& out = ctx.out(0);
    ctx.read_constant(0);
    const int rank = in.rank();
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    for (int64_t axis : ctx.constant_ints(1)) {
      const int64_t a = axis < 0 ? axis + rank : axis;
      ctx.require(a >= 0 && a < rank, "axis " + std::to_string(axis) + " is out of range");
      reduced[static_cast<size_t>(a)] = true;
    }
    int64_t kept = 1;
    for (int d = 0; d < rank; ++d)
      kept *= reduced[static_cast<size_t>(d)] ? 1 : in.shape[static_cast<size_t>(d)];
    ctx.require(out.elements() == kept, "output " + shape_text(out.shape) +
                                            " does not match the reduction of " +
                                            shape_text(in.shape));
    args_.op = op;
    // Group consecutive dimensions: [kept...][reduced...][kept...] is the fast layout.
    int first = rank, last = -1;
    for (int d = 0; d < rank; ++d) {
      if (reduced[static_cast<size_t>(d)] && in.shape[static_cast<size_t>(d)] != 1) {
        first = std::min(first, d);
        last = std::max(last, d);
      }
    }
    bool contiguous = true;
    for (int d = first; d <= last; ++d) {
      if (!reduced[static_cast<size_t>(d)] && in.shape[static_cast<size_t>(d)] != 1)
        contiguous = false;
    }
    ctx.require(contiguous, "reducing non-adjacent axes is not supported");
    if (last < 0) first = last = rank;  // nothing to reduce
    args_.outer = args_.count = args_.inner = 1;
    for (int d = 0; d < rank; ++d) {
      const int64_t s = in.shape[static_cast<size_t>(d)];
      if (d < first)
        args_.outer *= s;
      else if (d <= last)
        args_.count *= s;
      else
        args_.inner *= s;
    }
    ctx.require(args_.count > 0, "empty reduction");
    input_ = ctx.input_index(0);
    output_ = ctx.output_index(0);
    if (in.type == DType::kFloat32) {
      ctx.require(out.type == DType::kFloat32, "float input needs a float output");
      args_.is_float = true;
      return;
    }
    ctx.require(in.quantized && out.quantized && in.shift == out.shift,
                std::string("types ") + dtype_name(in.file_type) + " -> " +
                    dtype_name(out.file_type) + " are not supported");
    args_.in_zero = in.zero_point;
    args_.out_zero = out.zero_point;
    const double ratio = static_cast<double>(in.scale) / out.scale;
    args_.factor = op == Reduce::kMean ? ratio / static_cast<double>(args_.count) : ratio;
    if ((op == Reduce::kMax || op == Reduce::kMin) && !same_quantization(in, out)) {
      args_.lut = make_lut(in, out, [](double x) { return x; });
      args_.use_lut = true;
    }
  }

  void bind(const Bindings& b) override {
    args_.in = b.tensor(input_);
    args_.out = b.tensor(output_);
  }

  void run() override {
    if (args_.is_float) {
      parallel_for(args_.outer * args_.inner, 64,
                   [this](int64_t begin, int64_t end) { reduce_rows_f32(args_, begin, end); });
      return;
    }
    const int64_t blocks = (args_.inner + kBlock - 1) / kBlock;
    parallel_for(args_.outer * blocks, 1,
                 [this](int64_t begin, int64_t end) { reduce_rows_u8(args_, begin, end); });
  }

 private:
  ReduceArgs args_;
  int input_ = -1, output_ = -1;
};

}  // namespace

std::unique_ptr<Kernel> make_mean(OpContext& ctx) {
  return std::make_unique<ReduceKernel>(ctx, Reduce::kMean);
}
std::unique_ptr<Kernel> make_sum(OpContext& ctx) {
  return std::make_unique<ReduceKernel>(ctx, Reduce::kSum);
}
std::unique_ptr<Kernel> make_reduce_max(OpContext& ctx) {
  return std::make_unique<ReduceKernel>(ctx, Reduce::kMax);
}
std::unique_ptr<Kernel> make_reduce_min(OpContext& ctx) {
  return std::make_unique<ReduceKernel>(ctx, Reduce::kMin);
}

}  // namespace pipecut::runtime
