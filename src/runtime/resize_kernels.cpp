// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR over NHWC, with TensorFlow Lite's coordinate rules
// (align_corners, half_pixel_centers). 8-bit bilinear follows TensorFlow Lite's integer kernel:
// source positions in 1/1024 units, products summed exactly, rounded half away from zero in the
// file's own domain. Coordinates and weights are computed once at load.
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "runtime/kernels.h"
#include "runtime/quant_math.h"
#include "runtime/simd.h"
#include "runtime/threading.h"

namespace pipecut::runtime {

namespace {

struct Tap {
  int64_t i0 = 0, i1 = 0;     // source indices
  int32_t w0 = 1024, w1 = 0;  // 8-bit weights in 1/1024
  float f = 0;                // float: fraction towards i1
};

// TensorFlow Lite's integer source position (ResizeBilinearInteger).
std::vector<Tap> integer_taps(int in, int out, bool align_corners, bool half_pixel) {
  int32_t scale = ((1 << 10) * in + out / 2) / out;
  if (align_corners && out > 1) scale = ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
  std::vector<Tap> taps(static_cast<size_t>(out));
  for (int v = 0; v < out; ++v) {
    const int32_t scaled = half_pixel ? v * scale + scale / 2 - (1 << 9) : v * scale;
    Tap& t = taps[static_cast<size_t>(v)];
    t.i0 = std::max(scaled / (1 << 10), 0);
    t.i1 = std::min((scaled + (1 << 10) - 1) / (1 << 10), in - 1);
    t.w1 = scaled - (1 << 10) * static_cast<int32_t>(t.i0);
    t.w0 = (1 << 10) - t.w1;
    // TensorFlow Lite bounds only i1, and reads past the input where its rounded scale puts i0
    // beyond the last row (33 -> 513 rows without align_corners: 512 x 66 / 1024 = 33). There
    // the value is the last row's.
    if (t.i0 > in - 1) t = Tap{in - 1, in - 1, 1 << 10, 0, 0.f};
  }
  return taps;
}

// TensorFlow Lite's float source position (reference ResizeBilinear).
std::vector<Tap> float_taps(int in, int out, bool align_corners, bool half_pixel) {
  float scale = static_cast<float>(in) / static_cast<float>(out);
  if (align_corners && out > 1) scale = static_cast<float>(in - 1) / static_cast<float>(out - 1);
  std::vector<Tap> taps(static_cast<size_t>(out));
  for (int v = 0; v < out; ++v) {
    const float scaled =
        half_pixel ? (static_cast<float>(v) + 0.5f) * scale - 0.5f : static_cast<float>(v) * scale;
    Tap& t = taps[static_cast<size_t>(v)];
    t.i0 = std::max(static_cast<int64_t>(std::floor(scaled)), int64_t{0});
    t.i1 = std::min(static_cast<int64_t>(std::ceil(scaled)), int64_t{in} - 1);
    t.f = scaled - static_cast<float>(t.i0);
    if (t.i0 > in - 1) t = Tap{in - 1, in - 1, 1 << 10, 0, 0.f};  // as in integer_taps
  }
  return taps;
}

struct BilinearArgs {
  int64_t n = 1, ih = 1, iw = 1, c = 1, oh = 1, ow = 1;
  const Tap* ty = nullptr;
  const Tap* tx = nullptr;
  int32_t shift = 0;
  bool avx512 = false;  // horizontal pass with AVX-512 (at most 32 channels)
  const uint8_t* in = nullptr;
  uint8_t* out = nullptr;
};

constexpr int64_t kRowBuffer = 16384;  // int32 values of one vertically interpolated input row

inline void vertical(int32_t* __restrict t, const uint8_t* __restrict r0,
                     const uint8_t* __restrict r1, int64_t n, int32_t w0, int32_t w1) {
  for (int64_t i = 0; i < n; ++i) t[i] = r0[i] * w0 + r1[i] * w1;
}

inline void horizontal(uint8_t* __restrict out, const int32_t* __restrict t0,
                       const int32_t* __restrict t1, int64_t n, int32_t w0, int32_t w1,
                       int32_t shift) {
  constexpr int32_t kHalf = 1 << 19;
  const int32_t offset = shift << 20;
  for (int64_t c = 0; c < n; ++c) {
    const int32_t s = t0[c] * w0 + t1[c] * w1 - offset;  // in the file's domain, 1/2^20 units
    const int32_t v = (s + (s > 0 ? kHalf : -kHalf)) / (1 << 20) + shift;
    out[c] = static_cast<uint8_t>(std::min(std::max(v, 0), 255));
  }
}

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 false positive in intrinsics
#endif
// The horizontal pass for up to 32 channels: one or two masked vectors per output pixel instead
// of a short loop. Same integers and rounding as horizontal().
__attribute__((target("avx512f,avx512bw,avx512vl"))) void horizontal_row_avx512(
    uint8_t* out, const int32_t* t, const Tap* taps, int64_t ow, int64_t channels, int32_t shift) {
  const __mmask16 m0 =
      channels >= 16 ? __mmask16{0xFFFF} : static_cast<__mmask16>((1u << channels) - 1);
  const __mmask16 m1 =
      channels > 16 ? static_cast<__mmask16>((1u << (channels - 16)) - 1) : __mmask16{0};
  const __m512i half = _mm512_set1_epi32(1 << 19), minus_half = _mm512_set1_epi32(-(1 << 19));
  const __m512i offset = _mm512_set1_epi32(shift << 20), vshift = _mm512_set1_epi32(shift);
  const __m512i low_bits = _mm512_set1_epi32((1 << 20) - 1);
  const __m512i zero = _mm512_setzero_si512(), top = _mm512_set1_epi32(255);
  for (int64_t x = 0; x < ow; ++x) {
    const Tap& tap = taps[x];
    const __m512i w0 = _mm512_set1_epi32(tap.w0), w1 = _mm512_set1_epi32(tap.w1);
    for (int h = 0; h < 2; ++h) {
      const __mmask16 m = h == 0 ? m0 : m1;
      if (!m) break;
      const __m512i a = _mm512_maskz_loadu_epi32(m, t + tap.i0 * channels + 16 * h);
      const __m512i b = _mm512_maskz_loadu_epi32(m, t + tap.i1 * channels + 16 * h);
      const __m512i s = _mm512_sub_epi32(
          _mm512_add_epi32(_mm512_mullo_epi32(a, w0), _mm512_mullo_epi32(b, w1)), offset);
      const __mmask16 positive = _mm512_cmpgt_epi32_mask(s, zero);
      const __m512i r = _mm512_add_epi32(s, _mm512_mask_blend_epi32(positive, minus_half, half));
      // Division by 2^20 rounding toward zero, as C++'s integer division.
      const __m512i q = _mm512_srai_epi32(
          _mm512_add_epi32(r, _mm512_and_si512(_mm512_srai_epi32(r, 31), low_bits)), 20);
      const __m512i v = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(q, vshift), zero), top);
      _mm_mask_storeu_epi8(out + x * channels + 16 * h, m, _mm512_cvtusepi32_epi8(v));
    }
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// Rows are first interpolated vertically into 1/1024 units (exact integers), then horizontally;
// the result equals TensorFlow Lite's sum of four products.
PIPECUT_MULTIVERSION
void bilinear_rows_u8(const BilinearArgs& a, int64_t begin, int64_t end) {
  alignas(64) int32_t t[kRowBuffer];
  const int64_t row_values = a.iw * a.c;
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / a.oh, y = row % a.oh;
    const Tap& ty = a.ty[y];
    const uint8_t* r0 = a.in + (n * a.ih + ty.i0) * row_values;
    const uint8_t* r1 = a.in + (n * a.ih + ty.i1) * row_values;
    vertical(t, r0, r1, row_values, ty.w0, ty.w1);
    uint8_t* out = a.out + row * a.ow * a.c;
#if defined(__x86_64__)
    if (a.avx512) {
      horizontal_row_avx512(out, t, a.tx, a.ow, a.c, a.shift);
      continue;
    }
#endif
    for (int64_t x = 0; x < a.ow; ++x) {
      const Tap& tx = a.tx[x];
      horizontal(out + x * a.c, t + tx.i0 * a.c, t + tx.i1 * a.c, a.c, tx.w0, tx.w1, a.shift);
    }
  }
}

void bilinear_rows_f32(const BilinearArgs& a, int64_t begin, int64_t end) {
  const float* in = reinterpret_cast<const float*>(a.in);
  float* outp = reinterpret_cast<float*>(a.out);
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / a.oh, y = row % a.oh;
    const Tap& ty = a.ty[y];
    const float* r0 = in + (n * a.ih + ty.i0) * a.iw * a.c;
    const float* r1 = in + (n * a.ih + ty.i1) * a.iw * a.c;
    for (int64_t x = 0; x < a.ow; ++x) {
      const Tap& tx = a.tx[x];
      float* o = outp + (row * a.ow + x) * a.c;
      for (int64_t c = 0; c < a.c; ++c) {
        o[c] = r0[tx.i0 * a.c + c] * (1 - ty.f) * (1 - tx.f) +
               r1[tx.i0 * a.c + c] * ty.f * (1 - tx.f) + r0[tx.i1 * a.c + c] * (1 - ty.f) * tx.f +
               r1[tx.i1 * a.c + c] * ty.f * tx.f;
      }
    }
  }
}

void check_resize(OpContext& ctx, const ValueInfo& in, const ValueInfo& out) {
  ctx.require(in.rank() == 4 && out.rank() == 4, "input and output must be 4-D");
  // Source positions are computed in int32 units of 1/1024.
  constexpr int32_t kMaxSide = 1 << 20;
  ctx.require(in.shape[1] <= kMaxSide && in.shape[2] <= kMaxSide && out.shape[1] <= kMaxSide &&
                  out.shape[2] <= kMaxSide,
              "heights and widths above " + std::to_string(kMaxSide) + " are not supported");
  ctx.require(in.shape[0] == out.shape[0] && in.shape[3] == out.shape[3],
              "batch or channels differ");
  const std::vector<int64_t> size = ctx.constant_ints(1);
  ctx.require(size.size() == 2 && size[0] == out.shape[1] && size[1] == out.shape[2],
              "size input does not match output " + shape_text(out.shape));
  ctx.require(in.type == out.type && same_quantization(in, out) && in.shift == out.shift,
              "input and output must share one type, scale and zero point");
  ctx.require(!(ctx.options().align_corners && ctx.options().half_pixel_centers),
              "align_corners and half_pixel_centers together");
}

class BilinearKernel : public Kernel {
 public:
  explicit BilinearKernel(OpContext& ctx) {
    ctx.require(ctx.num_inputs() >= 2 && ctx.num_outputs() == 1, "expects input and size");
    const ValueInfo& in = ctx.in(0);
    const ValueInfo& out = ctx.out(0);
    ctx.read_constant(0);
    check_resize(ctx, in, out);
    is_float_ = in.type == DType::kFloat32;
    ctx.require(is_float_ || in.quantized,
                std::string("type ") + dtype_name(in.file_type) + " is not supported");
    ctx.require(
        is_float_ || int64_t{in.shape[2]} * in.shape[3] <= kRowBuffer,
        "input rows longer than " + std::to_string(kRowBuffer) + " values are not supported");
    const bool ac = ctx.options().align_corners, hp = ctx.options().half_pixel_centers;
    a_.n = in.shape[0];
    a_.ih = in.shape[1];
    a_.iw = in.shape[2];
    a_.c = in.shape[3];
    a_.oh = out.shape[1];
    a_.ow = out.shape[2];
    a_.shift = in.shift;
    a_.avx512 = !is_float_ && use_avx512() && in.shape[3] <= 32;
    const int ih = in.shape[1], iw = in.shape[2], oh = out.shape[1], ow = out.shape[2];
    ty_ = is_float_ ? float_taps(ih, oh, ac, hp) : integer_taps(ih, oh, ac, hp);
    tx_ = is_float_ ? float_taps(iw, ow, ac, hp) : integer_taps(iw, ow, ac, hp);
    a_.ty = ty_.data();
    a_.tx = tx_.data();
    input_ = ctx.input_index(0);
    output_ = ctx.output_index(0);
  }
  void bind(const Bindings& b) override {
    a_.in = b.tensor(input_);
    a_.out = b.tensor(output_);
  }
  void run() override {
    parallel_for(a_.n * a_.oh, 1, [this](int64_t begin, int64_t end) {
      if (is_float_)
        bilinear_rows_f32(a_, begin, end);
      else
        bilinear_rows_u8(a_, begin, end);
    });
  }

 private:
  bool is_float_ = false;
  BilinearArgs a_;
  std::vector<Tap> ty_, tx_;
  int input_ = -1, output_ = -1;
};

// TensorFlow Lite's GetNearestNeighbor.
std::vector<int64_t> nearest(int in, int out, bool align_corners, bool half_pixel) {
  float scale = static_cast<float>(in) / static_cast<float>(out);
  if (align_corners && out > 1) scale = static_cast<float>(in - 1) / static_cast<float>(out - 1);
  const float offset = half_pixel ? 0.5f : 0.f;
  std::vector<int64_t> idx(static_cast<size_t>(out));
  for (int v = 0; v < out; ++v) {
    const float p = (static_cast<float>(v) + offset) * scale;
    int64_t i =
        align_corners ? static_cast<int64_t>(std::round(p)) : static_cast<int64_t>(std::floor(p));
    i = std::min<int64_t>(i, in - 1);
    if (half_pixel) i = std::max<int64_t>(i, 0);
    idx[static_cast<size_t>(v)] = i;
  }
  return idx;
}

class NearestKernel : public Kernel {
 public:
  explicit NearestKernel(OpContext& ctx) {
    ctx.require(ctx.num_inputs() >= 2 && ctx.num_outputs() == 1, "expects input and size");
    const ValueInfo& in = ctx.in(0);
    const ValueInfo& out = ctx.out(0);
    ctx.read_constant(0);
    check_resize(ctx, in, out);
    ctx.require(element_size(in.type) > 0,
                std::string("type ") + dtype_name(in.file_type) + " is not supported");
    const bool ac = ctx.options().align_corners, hp = ctx.options().half_pixel_centers;
    n_ = in.shape[0];
    ih_ = in.shape[1];
    iw_ = in.shape[2];
    oh_ = out.shape[1];
    ow_ = out.shape[2];
    pixel_ = int64_t{in.shape[3]} * element_size(in.type);
    ys_ = nearest(in.shape[1], out.shape[1], ac, hp);
    xs_ = nearest(in.shape[2], out.shape[2], ac, hp);
    input_ = ctx.input_index(0);
    output_ = ctx.output_index(0);
  }
  void bind(const Bindings& b) override {
    in_ = b.tensor(input_);
    out_ = b.tensor(output_);
  }
  void run() override {
    parallel_for(n_ * oh_, 1, [this](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t n = row / oh_, y = row % oh_;
        const uint8_t* src = in_ + (n * ih_ + ys_[static_cast<size_t>(y)]) * iw_ * pixel_;
        uint8_t* dst = out_ + row * ow_ * pixel_;
        for (int64_t x = 0; x < ow_; ++x) {
          std::memcpy(dst + x * pixel_, src + xs_[static_cast<size_t>(x)] * pixel_,
                      static_cast<size_t>(pixel_));
        }
      }
    });
  }

 private:
  int64_t n_ = 1, ih_ = 1, iw_ = 1, oh_ = 1, ow_ = 1, pixel_ = 1;
  std::vector<int64_t> ys_, xs_;
  int input_ = -1, output_ = -1;
  const uint8_t* in_ = nullptr;
  uint8_t* out_ = nullptr;
};

}  // namespace

std::unique_ptr<Kernel> make_resize_bilinear(OpContext& ctx) {
  return std::make_unique<BilinearKernel>(ctx);
}
std::unique_ptr<Kernel> make_resize_nearest_neighbor(OpContext& ctx) {
  return std::make_unique<NearestKernel>(ctx);
}

}  // namespace pipecut::runtime
