#include "zoo/activation_stats.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace pipecut::zoo {

namespace {

double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}
double normal_pdf(double x) {
  return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi);
}

}  // namespace

Moments clipped_moments(double mu, double s, double lo, double hi) {
  if (s <= 1e-12) {
    const double y = std::clamp(mu, lo, hi);
    return {y, y * y};
  }
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  const double a = has_lo ? (lo - mu) / s : -kInf;
  const double b = has_hi ? (hi - mu) / s : kInf;
  const double cdf_a = has_lo ? normal_cdf(a) : 0.0, pdf_a = has_lo ? normal_pdf(a) : 0.0;
  const double cdf_b = has_hi ? normal_cdf(b) : 1.0, pdf_b = has_hi ? normal_pdf(b) : 0.0;
  const double inside = cdf_b - cdf_a;
  Moments m;
  m.mean = mu * inside + s * (pdf_a - pdf_b);
  m.m2 = (mu * mu + s * s) * inside;
  if (has_lo) {
    m.mean += lo * cdf_a;
    m.m2 += lo * lo * cdf_a + s * (lo + mu) * pdf_a;
  }
  if (has_hi) {
    m.mean += hi * (1.0 - cdf_b);
    m.m2 += hi * hi * (1.0 - cdf_b) - s * (hi + mu) * pdf_b;
  }
  return m;
}

std::pair<double, double> activation_clip(Activation act) {
  switch (act) {
    case Activation::kRelu:
      return {0.0, kInf};
    case Activation::kRelu6:
      return {0.0, 6.0};
    case Activation::kNone:
      break;
  }
  return {-kInf, kInf};
}

void quantize_range(ActInfo& info, double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (hi - lo < 1e-6) hi = lo + 1e-6;
  const double scale = (hi - lo) / 255.0;
  info.lo = lo;
  info.hi = hi;
  info.scale = static_cast<float>(scale);
  info.zero_point =
      static_cast<int32_t>(std::clamp(std::round(-128.0 - lo / scale), -128.0, 127.0));
}

}  // namespace pipecut::zoo
