// MAX_POOL_2D and AVERAGE_POOL_2D over NHWC, vectorized across channels. Padded positions are left
// out of the window (as TensorFlow Lite does); the average rounds half away from zero in the
// file's own domain, exactly as TensorFlow Lite's integer kernel.
#include <algorithm>

#include "runtime/conv_setup.h"
#include "runtime/kernels.h"
#include "runtime/simd.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

constexpr int kBlock = 512;

struct PoolArgs {
  ConvGeometry g;
  const uint8_t* in = nullptr;
  uint8_t* out = nullptr;
  int32_t shift = 0;         // stored = file + shift
  int32_t lo = 0, hi = 255;  // activation range (stored)
  float flo = -INFINITY, fhi = INFINITY;
};

struct Window {
  int64_t h0, h1, w0, w1;
};

Window window(const ConvGeometry& g, int64_t oh, int64_t ow) {
  const int64_t y = oh * g.stride_h - g.pad_top, x = ow * g.stride_w - g.pad_left;
  return {std::max<int64_t>(y, 0), std::min<int64_t>(y + g.kh, g.ih), std::max<int64_t>(x, 0),
          std::min<int64_t>(x + g.kw, g.iw)};
}

inline void max_into(uint8_t* __restrict m, const uint8_t* __restrict p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) m[i] = std::max(m[i], p[i]);
}

inline void sum_into(int32_t* __restrict acc, const uint8_t* __restrict p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += p[i];
}

inline void clamp_into(uint8_t* __restrict out, const uint8_t* __restrict m, int64_t n, uint8_t lo,
                       uint8_t hi) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::min(std::max(m[i], lo), hi);
}

PIPECUT_MULTIVERSION
void max_pool_u8(const PoolArgs& a, int64_t begin, int64_t end) {
  const ConvGeometry g = a.g;
  const uint8_t lo = static_cast<uint8_t>(a.lo), hi = static_cast<uint8_t>(a.hi);
  alignas(64) uint8_t m[kBlock];
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / g.oh, oh = row % g.oh;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      const Window w = window(g, oh, ow);
      uint8_t* out = a.out + ((n * g.oh + oh) * g.ow + ow) * g.ic;
      for (int64_t c0 = 0; c0 < g.ic; c0 += kBlock) {
        const int64_t len = std::min<int64_t>(kBlock, g.ic - c0);
        std::fill(m, m + len, uint8_t{0});
        for (int64_t y = w.h0; y < w.h1; ++y) {
          const uint8_t* p = a.in + ((n * g.ih + y) * g.iw) * g.ic + c0;
          for (int64_t x = w.w0; x < w.w1; ++x) max_into(m, p + x * g.ic, len);
        }
        clamp_into(out + c0, m, len, lo, hi);
      }
    }
  }
}

PIPECUT_MULTIVERSION
void avg_pool_u8(const PoolArgs& a, int64_t begin, int64_t end) {
  const ConvGeometry g = a.g;
  alignas(64) int32_t acc[kBlock];
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / g.oh, oh = row % g.oh;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      const Window w = window(g, oh, ow);
      const int32_t count = static_cast<int32_t>((w.h1 - w.h0) * (w.w1 - w.w0));
      uint8_t* out = a.out + ((n * g.oh + oh) * g.ow + ow) * g.ic;
      for (int64_t c0 = 0; c0 < g.ic; c0 += kBlock) {
        const int64_t len = std::min<int64_t>(kBlock, g.ic - c0);
        std::fill(acc, acc + len, 0);
        for (int64_t y = w.h0; y < w.h1; ++y) {
          const uint8_t* p = a.in + ((n * g.ih + y) * g.iw) * g.ic + c0;
          for (int64_t x = w.w0; x < w.w1; ++x) sum_into(acc, p + x * g.ic, len);
        }
        for (int64_t c = 0; c < len; ++c) {
          const int32_t sum = acc[c] - a.shift * count;  // in the file's domain
          const int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
          out[c0 + c] = static_cast<uint8_t>(std::min(std::max(avg + a.shift, a.lo), a.hi));
        }
      }
    }
  }
}

void pool_f32(const PoolArgs& a, bool max, int64_t begin, int64_t end) {
  const ConvGeometry& g = a.g;
  const float* in = reinterpret_cast<const float*>(a.in);
  float* outp = reinterpret_cast<float*>(a.out);
  float acc[kBlock];
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / g.oh, oh = row % g.oh;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      const Window w = window(g, oh, ow);
      const float count = static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
      float* out = outp + ((n * g.oh + oh) * g.ow + ow) * g.ic;
      for (int c0 = 0; c0 < g.ic; c0 += kBlock) {
        const int len = std::min(kBlock, g.ic - c0);
        for (int c = 0; c < len; ++c) acc[c] = max ? -INFINITY : 0.f;
        for (int64_t y = w.h0; y < w.h1; ++y) {
          for (int64_t x = w.w0; x < w.w1; ++x) {
            const float* p = in + ((n * g.ih + y) * g.iw + x) * g.ic + c0;
            if (max) {
              for (int c = 0; c < len; ++c) acc[c] = std::max(acc[c], p[c]);
            } else {
              for (int c = 0; c < len; ++c) acc[c] += p[c];
            }
          }
        }
        for (int c = 0; c < len; ++c) {
          const float v = max ? acc[c] : acc[c] / count;
          out[c0 + c] = std::min(std::max(v, a.flo), a.fhi);
        }
      }
    }
  }
}

class PoolKernel : public Kernel {
 public:
  PoolKernel(OpContext& ctx, bool max) : max_(max) {
    ctx.require_arity(1, 1);
    const ValueInfo& in = ctx.in(0);
    const ValueInfo& out = ctx.out(0);
    ctx.require(in.rank() == 4 && out.rank() == 4, "input and output must be 4-D");
    const OpOptions& o = ctx.options();
    ConvGeometry& g = args_.g;
    g.oc = in.shape[3];
    g.kh = o.filter_h;
    g.kw = o.filter_w;
    g.stride_h = o.stride_h;
    g.stride_w = o.stride_w;
    ctx.require(g.kh >= 1 && g.kw >= 1 && g.stride_h >= 1 && g.stride_w >= 1,
                "bad filter size or stride");
    place_window(ctx, g, o.padding, in, out);
    ctx.read_constant(0);
    input_ = ctx.input_index(0);
    output_ = ctx.output_index(0);
    if (in.type == DType::kFloat32) {
      ctx.require(out.type == DType::kFloat32, "float input needs a float output");
      is_float_ = true;
      FloatRange r;
      ctx.require(activation_range(o.activation, &r), "fused activation not supported");
      args_.flo = r.lo;
      args_.fhi = r.hi;
      return;
    }
    ctx.require(in.quantized && out.quantized,
                std::string("type ") + dtype_name(in.file_type) + " is not supported");
    ctx.require(same_quantization(in, out) && in.shift == out.shift,
                "input and output must share one type, scale and zero point");
    IntRange r;
    ctx.require(activation_range(o.activation, out, &r), "fused activation not supported");
    args_.shift = in.shift;
    args_.lo = r.lo;
    args_.hi = r.hi;
  }

  void bind(const Bindings& b) override {
    args_.in = b.tensor(input_);
    args_.out = b.tensor(output_);
  }

  void run() override {
    parallel_for(int64_t{args_.g.n} * args_.g.oh, 1, [this](int64_t begin, int64_t end) {
      if (is_float_) {
        pool_f32(args_, max_, begin, end);
      } else if (max_) {
        max_pool_u8(args_, begin, end);
      } else {
        avg_pool_u8(args_, begin, end);
      }
    });
  }

 private:
  bool max_;
  bool is_float_ = false;
  PoolArgs args_;
  int input_ = -1, output_ = -1;
};

}  // namespace

std::unique_ptr<Kernel> make_max_pool_2d(OpContext& ctx) {
  return std::make_unique<PoolKernel>(ctx, true);
}
std::unique_ptr<Kernel> make_average_pool_2d(OpContext& ctx) {
  return std::make_unique<PoolKernel>(ctx, false);
}

}  // namespace pipecut::runtime
