#include "runtime/depthwise_avx512.h"

#include <immintrin.h>

#include <algorithm>

namespace pipecut::runtime {

namespace {

constexpr int kLanes = 32;  // channels per block

// Position, inside a block's 32 int32 accumulators as vpmaddwd leaves them (lo then hi half), of
// channel c of the block: vpunpcklwd/hwd interleave within 128-bit lanes.
int slot(int c) {
  const int lane = c / 8, within = c % 8;
  return within < 4 ? lane * 4 + within : 16 + lane * 4 + (within - 4);
}

}  // namespace

void DepthwiseAvx512::prepare(const ConvGeometry& geometry, const std::vector<int32_t>& centered,
                              const std::vector<int32_t>& b, const std::vector<float>& s,
                              int32_t iz, int32_t oz, int32_t l, int32_t h) {
  g = geometry;
  input_zero = iz;
  output_zero = oz;
  lo = l;
  hi = h;
  const int taps = g.kh * g.kw;
  pairs = (taps + 1) / 2;
  blocks = (g.oc + kLanes - 1) / kLanes;
  weights.assign(static_cast<size_t>(pairs) * blocks * 2 * kLanes, 0);
  bias.assign(static_cast<size_t>(blocks) * kLanes, 0);
  scale.assign(static_cast<size_t>(blocks) * kLanes, 0.f);
  for (int c = 0; c < g.oc; ++c) {
    const int block = c / kLanes, k = slot(c % kLanes);
    // sum (x - z_x) w = sum x w - z_x sum w: the zero point folds into the bias, exactly.
    int32_t weight_sum = 0;
    for (int t = 0; t < taps; ++t)
      weight_sum +=
          centered[static_cast<size_t>(t) * static_cast<size_t>(g.oc) + static_cast<size_t>(c)];
    bias[static_cast<size_t>(block * kLanes + k)] = b[static_cast<size_t>(c)] - iz * weight_sum;
    scale[static_cast<size_t>(block * kLanes + k)] = s[static_cast<size_t>(c)];
    for (int t = 0; t < taps; ++t) {
      const size_t base =
          (static_cast<size_t>(t / 2) * blocks + static_cast<size_t>(block)) * 2 * kLanes;
      weights[base + static_cast<size_t>(2 * k + t % 2)] = static_cast<int16_t>(
          centered[static_cast<size_t>(t) * static_cast<size_t>(g.oc) + static_cast<size_t>(c)]);
    }
  }
  zero_row.assign(static_cast<size_t>(g.ic) + kLanes, static_cast<uint8_t>(input_zero));
}

int64_t DepthwiseAvx512::bytes() const {
  return static_cast<int64_t>(weights.size() * 2 + bias.size() * 4 + scale.size() * 4 +
                              zero_row.size());
}

// GCC 12 reports the intrinsics' deliberately undefined pass-through operands as maybe
// uninitialized (a known false positive).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
namespace {

// Where a window's taps are: listed one by one (windows reaching into the padding), or at fixed
// offsets from the window's corner (the interior).
struct PointerTaps {
  const uint8_t* const* ptr;
  const uint8_t* operator()(int t) const { return ptr[t]; }
};
struct OffsetTaps {
  const uint8_t* corner;
  const int64_t* offset;
  const uint8_t* operator()(int t) const { return corner + offset[t]; }
};

// One block of up to 32 channels of one output pixel; `tap(t)` is tap t's input pixel. The input
// zero point is in the bias (every tap, padding included, reads a value x with x - z_x implied).
template <typename TapFn>
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline)) inline void pixel_block(
    const DepthwiseAvx512& d, TapFn tap, int block, __mmask32 mask, uint8_t* o) {
  const int c0 = block * kLanes;
  __m512i acc_lo = _mm512_loadu_si512(d.bias.data() + c0);
  __m512i acc_hi = _mm512_loadu_si512(d.bias.data() + c0 + 16);
  const int16_t* w = d.weights.data() + static_cast<size_t>(block) * 2 * kLanes;
  const size_t pair_stride = static_cast<size_t>(d.blocks) * 2 * kLanes;
  for (int p = 0; p < d.pairs; ++p) {
    const __m512i x0 = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, tap(2 * p) + c0));
    const __m512i x1 = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, tap(2 * p + 1) + c0));
    const int16_t* wp = w + static_cast<size_t>(p) * pair_stride;
    acc_lo = _mm512_add_epi32(
        acc_lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(x0, x1), _mm512_loadu_si512(wp)));
    acc_hi = _mm512_add_epi32(
        acc_hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(x0, x1), _mm512_loadu_si512(wp + 32)));
  }
  const __m512 fmin = _mm512_set1_ps(-4.0e6f), fmax = _mm512_set1_ps(4.0e6f);
  __m512 f_lo = _mm512_mul_ps(_mm512_cvtepi32_ps(acc_lo), _mm512_loadu_ps(d.scale.data() + c0));
  __m512 f_hi =
      _mm512_mul_ps(_mm512_cvtepi32_ps(acc_hi), _mm512_loadu_ps(d.scale.data() + c0 + 16));
  f_lo = _mm512_min_ps(_mm512_max_ps(f_lo, fmin), fmax);
  f_hi = _mm512_min_ps(_mm512_max_ps(f_hi, fmin), fmax);
  const __m512i zo = _mm512_set1_epi32(d.output_zero);
  const __m512i q_lo = _mm512_add_epi32(_mm512_cvtps_epi32(f_lo), zo);
  const __m512i q_hi = _mm512_add_epi32(_mm512_cvtps_epi32(f_hi), zo);
  __m512i q = _mm512_packs_epi32(q_lo, q_hi);  // back to channel order within each lane
  q = _mm512_min_epi16(_mm512_max_epi16(q, _mm512_set1_epi16(static_cast<int16_t>(d.lo))),
                       _mm512_set1_epi16(static_cast<int16_t>(d.hi)));
  _mm256_mask_storeu_epi8(o + c0, mask, _mm512_cvtusepi16_epi8(q));
}

}  // namespace

__attribute__((target("avx512f,avx512bw,avx512vl"))) void DepthwiseAvx512::rows(const uint8_t* in,
                                                                                uint8_t* out,
                                                                                int64_t begin,
                                                                                int64_t end) const {
  const int taps = g.kh * g.kw;
  // Offsets of the taps from the window's top-left input pixel; the odd tap's partner reads the
  // window's first pixel against a zero weight.
  int64_t tap_offset[64] = {};
  for (int kh = 0; kh < g.kh; ++kh) {
    for (int kw = 0; kw < g.kw; ++kw) {
      tap_offset[kh * g.kw + kw] =
          (int64_t{kh} * g.dilation_h * g.iw + int64_t{kw} * g.dilation_w) * g.ic;
    }
  }
  // Output columns whose whole window lies inside the image horizontally: [ow_lo, ow_hi).
  const int64_t span_w = int64_t{g.kw - 1} * g.dilation_w;
  int64_t ow_lo = 0;
  while (ow_lo < g.ow && ow_lo * g.stride_w - g.pad_left < 0) ++ow_lo;
  int64_t ow_hi = ow_lo;
  while (ow_hi < g.ow && ow_hi * g.stride_w - g.pad_left + span_w < g.iw) ++ow_hi;
  const __mmask32 full = ~__mmask32{0};
  const int tail = g.oc - (blocks - 1) * kLanes;
  const __mmask32 tail_mask = tail == kLanes ? full : (__mmask32{1} << tail) - 1;
  const uint8_t* ptr[64];  // for windows that reach into the padding: the zero row there
  for (int t = taps; t < 2 * pairs; ++t) ptr[t] = zero_row.data();

  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / g.oh, oh = row % g.oh;
    const int64_t ih0 = oh * g.stride_h - g.pad_top;
    const bool rows_inside = ih0 >= 0 && ih0 + int64_t{g.kh - 1} * g.dilation_h < g.ih;
    uint8_t* out_row = out + (n * g.oh + oh) * g.ow * g.oc;
    // The window's top input row; only the interior loop reads it, and only when rows_inside.
    const uint8_t* in_row = rows_inside ? in + (n * g.ih + ih0) * g.iw * g.ic : in;
    const auto edge_taps = [&](int64_t ow) {
      const int64_t iw0 = ow * g.stride_w - g.pad_left;
      for (int kh = 0; kh < g.kh; ++kh) {
        const int64_t ih = ih0 + int64_t{kh} * g.dilation_h;
        for (int kw = 0; kw < g.kw; ++kw) {
          const int64_t iw = iw0 + int64_t{kw} * g.dilation_w;
          const bool inside = ih >= 0 && ih < g.ih && iw >= 0 && iw < g.iw;
          ptr[kh * g.kw + kw] =
              inside ? in + ((n * g.ih + ih) * g.iw + iw) * g.ic : zero_row.data();
        }
      }
    };
    const PointerTaps edge{ptr};
    // Interior windows: all of it when the rows are inside, none otherwise.
    const int64_t lo = rows_inside ? ow_lo : g.ow, hi = rows_inside ? ow_hi : g.ow;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      if (ow == lo) ow = std::max(hi, lo);  // the interior comes below, a block at a time
      if (ow >= g.ow) break;
      edge_taps(ow);
      for (int block = 0; block < blocks; ++block)
        pixel_block(*this, edge, block, block + 1 < blocks ? full : tail_mask, out_row + ow * g.oc);
    }
    for (int block = 0; block < blocks; ++block) {
      const __mmask32 mask = block + 1 < blocks ? full : tail_mask;
      for (int64_t ow = lo; ow < hi; ++ow) {
        const OffsetTaps inner{in_row + (ow * g.stride_w - g.pad_left) * g.ic, tap_offset};
        pixel_block(*this, inner, block, mask, out_row + ow * g.oc);
      }
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace pipecut::runtime
