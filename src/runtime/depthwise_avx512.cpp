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
    bias[static_cast<size_t>(block * kLanes + k)] = b[static_cast<size_t>(c)];
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
__attribute__((target("avx512f,avx512bw,avx512vl"))) void DepthwiseAvx512::rows(const uint8_t* in,
                                                                                uint8_t* out,
                                                                                int64_t begin,
                                                                                int64_t end) const {
  const int taps = g.kh * g.kw;
  const uint8_t* ptr[64];  // input pixel of every tap (the zero row when it falls in the padding)
  const __m512i zx = _mm512_set1_epi16(static_cast<int16_t>(input_zero));
  const __m512i zo = _mm512_set1_epi32(output_zero);
  const __m512i vlo = _mm512_set1_epi16(static_cast<int16_t>(lo));
  const __m512i vhi = _mm512_set1_epi16(static_cast<int16_t>(hi));
  const __m512 fmin = _mm512_set1_ps(-4.0e6f), fmax = _mm512_set1_ps(4.0e6f);
  for (int t = taps; t < 2 * pairs; ++t) ptr[t] = zero_row.data();  // the odd tap's partner
  // Offsets of the taps from the window's top-left input pixel, and the output columns whose
  // whole window lies inside the image horizontally.
  int64_t tap_offset[64];
  for (int kh = 0; kh < g.kh; ++kh) {
    for (int kw = 0; kw < g.kw; ++kw) {
      tap_offset[kh * g.kw + kw] =
          (int64_t{kh} * g.dilation_h * g.iw + int64_t{kw} * g.dilation_w) * g.ic;
    }
  }
  const int64_t span_w = int64_t{g.kw - 1} * g.dilation_w;
  for (int64_t row = begin; row < end; ++row) {
    const int64_t n = row / g.oh, oh = row % g.oh;
    const int64_t ih0 = oh * g.stride_h - g.pad_top;
    const bool rows_inside = ih0 >= 0 && ih0 + int64_t{g.kh - 1} * g.dilation_h < g.ih;
    for (int64_t ow = 0; ow < g.ow; ++ow) {
      const int64_t iw0 = ow * g.stride_w - g.pad_left;
      if (rows_inside && iw0 >= 0 && iw0 + span_w < g.iw) {
        const uint8_t* corner = in + ((n * g.ih + ih0) * g.iw + iw0) * g.ic;
        for (int t = 0; t < taps; ++t) ptr[t] = corner + tap_offset[t];
      } else {
        for (int kh = 0; kh < g.kh; ++kh) {
          const int64_t ih = ih0 + int64_t{kh} * g.dilation_h;
          for (int kw = 0; kw < g.kw; ++kw) {
            const int64_t iw = iw0 + int64_t{kw} * g.dilation_w;
            const bool inside = ih >= 0 && ih < g.ih && iw >= 0 && iw < g.iw;
            ptr[kh * g.kw + kw] =
                inside ? in + ((n * g.ih + ih) * g.iw + iw) * g.ic : zero_row.data();
          }
        }
      }
      uint8_t* o = out + ((n * g.oh + oh) * g.ow + ow) * g.oc;
      for (int block = 0; block < blocks; ++block) {
        const int c0 = block * kLanes;
        const int len = std::min(kLanes, g.oc - c0);
        const __mmask32 mask = len == kLanes ? ~__mmask32{0} : (__mmask32{1} << len) - 1;
        __m512i acc_lo = _mm512_loadu_si512(bias.data() + c0);
        __m512i acc_hi = _mm512_loadu_si512(bias.data() + c0 + 16);
        const int16_t* w = weights.data() + static_cast<size_t>(block) * 2 * kLanes;
        for (int p = 0; p < pairs; ++p) {
          const __m512i x0 = _mm512_sub_epi16(
              _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, ptr[2 * p] + c0)), zx);
          const __m512i x1 = _mm512_sub_epi16(
              _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, ptr[2 * p + 1] + c0)), zx);
          const int16_t* wp = w + static_cast<size_t>(p) * blocks * 2 * kLanes;
          acc_lo = _mm512_add_epi32(
              acc_lo, _mm512_madd_epi16(_mm512_unpacklo_epi16(x0, x1), _mm512_loadu_si512(wp)));
          acc_hi = _mm512_add_epi32(acc_hi, _mm512_madd_epi16(_mm512_unpackhi_epi16(x0, x1),
                                                              _mm512_loadu_si512(wp + 32)));
        }
        __m512 f_lo = _mm512_mul_ps(_mm512_cvtepi32_ps(acc_lo), _mm512_loadu_ps(scale.data() + c0));
        __m512 f_hi =
            _mm512_mul_ps(_mm512_cvtepi32_ps(acc_hi), _mm512_loadu_ps(scale.data() + c0 + 16));
        f_lo = _mm512_min_ps(_mm512_max_ps(f_lo, fmin), fmax);
        f_hi = _mm512_min_ps(_mm512_max_ps(f_hi, fmin), fmax);
        const __m512i q_lo = _mm512_add_epi32(_mm512_cvtps_epi32(f_lo), zo);
        const __m512i q_hi = _mm512_add_epi32(_mm512_cvtps_epi32(f_hi), zo);
        __m512i q = _mm512_packs_epi32(q_lo, q_hi);  // back to channel order within each lane
        q = _mm512_min_epi16(_mm512_max_epi16(q, vlo), vhi);
        _mm256_mask_storeu_epi8(o + c0, mask, _mm512_cvtusepi16_epi8(q));
      }
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace pipecut::runtime
