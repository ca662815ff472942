// Our own 8-bit depthwise convolution, used when the weights' zero point leaves (w - z_w) outside
// int8 (legacy uint8 models), which oneDNN's convolution cannot take. Exact integer accumulation
// as TensorFlow Lite's reference kernel; requantization as the other kernels (float scale).
//
// One output row at a time: for every tap (kh, kw) the accumulators of a run of output pixels are
// updated in one contiguous loop. With stride 1 and depth multiplier 1 the tap's weights are
// pre-tiled across the run, so the loop is a plain vector multiply-add over pixels x channels.
#include <algorithm>
#include <vector>

#include "runtime/conv_kernels.h"
#include "runtime/depthwise_avx512.h"
#include "runtime/simd.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

constexpr int64_t kRun = 4096;  // accumulators per run (pixels x channels)

struct DepthwiseArgs {
  ConvGeometry g;
  int64_t run_pixels = 1;  // output pixels per run
  bool tiled = false;      // stride 1, multiplier 1: weights tiled across a run
  const uint8_t* in = nullptr;
  uint8_t* out = nullptr;
  const int16_t* weights = nullptr;  // [kh][kw][oc] centred, or [kh][kw][run_pixels][oc] when tiled
  const int32_t* bias = nullptr;
  const float* scale = nullptr;
  int32_t input_zero = 0, output_zero = 0, lo = 0, hi = 255;
};

inline void multiply_add(int32_t* __restrict acc, const uint8_t* __restrict x,
                         const int16_t* __restrict w, int64_t n, int32_t zero) {
  for (int64_t i = 0; i < n; ++i) acc[i] += (static_cast<int32_t>(x[i]) - zero) * w[i];
}

inline void multiply_add_spread(int32_t* __restrict acc, const uint8_t* __restrict x,
                                const int16_t* __restrict w, int64_t n, int m, int32_t zero) {
  for (int64_t i = 0; i < n; ++i) acc[i] += (static_cast<int32_t>(x[i / m]) - zero) * w[i];
}

inline void requantize_run(uint8_t* __restrict out, const int32_t* __restrict acc,
                           const float* __restrict scale, int64_t pixels, int64_t channels,
                           int32_t zero, int32_t lo, int32_t hi) {
  for (int64_t p = 0; p < pixels; ++p) {
    for (int64_t c = 0; c < channels; ++c) {
      out[p * channels + c] = static_cast<uint8_t>(
          requantize(static_cast<float>(acc[p * channels + c]) * scale[c], zero, lo, hi));
    }
  }
}

PIPECUT_MULTIVERSION
void depthwise_rows(const DepthwiseArgs& a, int64_t begin, int64_t end) {
  const ConvGeometry g = a.g;
  const int64_t oc = g.oc, ic = g.ic, m = g.depth_multiplier;
  alignas(64) int32_t acc[kRun];
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / g.oh, oh = row % g.oh;
    for (int64_t ow0 = 0; ow0 < g.ow; ow0 += a.run_pixels) {
      const int64_t ow1 = std::min<int64_t>(ow0 + a.run_pixels, g.ow);
      for (int64_t p = 0; p < ow1 - ow0; ++p) {
        for (int64_t c = 0; c < oc; ++c) acc[p * oc + c] = a.bias[c];
      }
      for (int64_t kh = 0; kh < g.kh; ++kh) {
        const int64_t ih = oh * g.stride_h - g.pad_top + kh * g.dilation_h;
        if (ih < 0 || ih >= g.ih) continue;
        const uint8_t* in_row = a.in + (n * g.ih + ih) * g.iw * ic;
        for (int64_t kw = 0; kw < g.kw; ++kw) {
          // Output pixels whose input column for this tap lies inside the image.
          const int64_t shift = kw * g.dilation_w - g.pad_left;  // iw = ow * stride + shift
          int64_t lo = ow0, hi = ow1;
          while (lo < hi && lo * g.stride_w + shift < 0) ++lo;
          while (hi > lo && (hi - 1) * g.stride_w + shift >= g.iw) --hi;
          if (lo >= hi) continue;
          const int64_t tap = kh * g.kw + kw;
          if (a.tiled) {
            multiply_add(acc + (lo - ow0) * oc, in_row + (lo + shift) * ic,
                         a.weights + tap * a.run_pixels * oc, (hi - lo) * oc, a.input_zero);
          } else {
            const int16_t* w = a.weights + tap * oc;
            for (int64_t ow = lo; ow < hi; ++ow) {
              const uint8_t* x = in_row + (ow * g.stride_w + shift) * ic;
              if (m == 1) {
                multiply_add(acc + (ow - ow0) * oc, x, w, oc, a.input_zero);
              } else {
                multiply_add_spread(acc + (ow - ow0) * oc, x, w, oc, static_cast<int>(m),
                                    a.input_zero);
              }
            }
          }
        }
      }
      requantize_run(a.out + ((n * g.oh + oh) * g.ow + ow0) * oc, acc, a.scale, ow1 - ow0, oc,
                     a.output_zero, a.lo, a.hi);
    }
  }
}

class OwnDepthwiseKernel : public Kernel {
 public:
  explicit OwnDepthwiseKernel(const ConvSetup& s) : input_(s.input), output_(s.output) {
    const ConvGeometry& g = s.g;
    args_.g = g;
    if (use_avx512() && g.depth_multiplier == 1 && g.kh * g.kw <= 62) {
      avx512_ = true;  // it lays out its own weights; the portable copies below are not needed
      fast_.prepare(g, s.w.centered, s.q.bias, s.q.scale, s.q.input_zero, s.q.output_zero,
                    s.q.act.lo, s.q.act.hi);
      return;
    }
    args_.run_pixels = std::max<int64_t>(1, kRun / g.oc);
    args_.tiled = g.stride_w == 1 && g.depth_multiplier == 1;
    const int64_t taps = int64_t{g.kh} * g.kw;
    if (args_.tiled) {
      const int64_t per_tap = args_.run_pixels * g.oc;
      weights_.resize(static_cast<size_t>(taps * per_tap));
      for (int64_t t = 0; t < taps; ++t) {
        for (int64_t p = 0; p < args_.run_pixels; ++p) {
          for (int64_t c = 0; c < g.oc; ++c) {
            weights_[static_cast<size_t>(t * per_tap + p * g.oc + c)] =
                static_cast<int16_t>(s.w.centered[static_cast<size_t>(t * g.oc + c)]);
          }
        }
      }
    } else {
      weights_.assign(s.w.centered.begin(), s.w.centered.end());
    }
    bias_ = s.q.bias;
    scale_ = s.q.scale;
    args_.weights = weights_.data();
    args_.bias = bias_.data();
    args_.scale = scale_.data();
    args_.input_zero = s.q.input_zero;
    args_.output_zero = s.q.output_zero;
    args_.lo = s.q.act.lo;
    args_.hi = s.q.act.hi;
  }

  void bind(const Bindings& b) override {
    args_.in = b.tensor(input_);
    args_.out = b.tensor(output_);
  }

  void run() override {
    parallel_for(int64_t{args_.g.n} * args_.g.oh, 1, [this](int64_t begin, int64_t end) {
      if (avx512_) {
        fast_.rows(args_.in, args_.out, begin, end);
      } else {
        depthwise_rows(args_, begin, end);
      }
    });
  }

  std::string detail() const override { return avx512_ ? "own depthwise avx512" : "own depthwise"; }
  int64_t weight_bytes() const override {
    return static_cast<int64_t>(weights_.size() * 2 + bias_.size() * 4 + scale_.size() * 4) +
           (avx512_ ? fast_.bytes() : 0);
  }

 private:
  int input_, output_;
  std::vector<int16_t> weights_;
  std::vector<int32_t> bias_;
  std::vector<float> scale_;
  DepthwiseArgs args_;
  bool avx512_ = false;
  DepthwiseAvx512 fast_;
};

}  // namespace

std::unique_ptr<Kernel> make_own_depthwise(OpContext& ctx, const ConvSetup& s) {
  ctx.require(!s.is_float, "float depthwise convolutions go through oneDNN");
  ctx.require(s.g.oc <= kRun, "more than " + std::to_string(kRun) + " channels");
  return std::make_unique<OwnDepthwiseKernel>(s);
}

}  // namespace pipecut::runtime
