#include "runtime/broadcast.h"

#include <algorithm>

namespace pipecut::runtime {

int64_t Broadcast::outer() const {
  int64_t n = 1;
  for (size_t i = 0; i + 1 < dims.size(); ++i) n *= dims[i];
  return n;
}

void Broadcast::offsets(int64_t r, int64_t* oa, int64_t* ob, int64_t* oo) const {
  *oa = *ob = *oo = 0;
  for (size_t i = dims.size() - 1; i-- > 0;) {
    const int64_t idx = r % dims[i];
    r /= dims[i];
    *oa += idx * a[i];
    *ob += idx * b[i];
    *oo += idx * out[i];
  }
}

bool make_broadcast(const std::vector<int32_t>& a, const std::vector<int32_t>& b,
                    const std::vector<int32_t>& out, Broadcast* result) {
  const size_t rank = std::max({a.size(), b.size(), out.size()});
  auto extended = [&](const std::vector<int32_t>& s) {
    std::vector<int64_t> e(rank - s.size(), 1);
    e.insert(e.end(), s.begin(), s.end());
    return e;
  };
  const std::vector<int64_t> ea = extended(a), eb = extended(b), eo = extended(out);
  // Contiguous strides of each operand, zeroed where it repeats.
  std::vector<int64_t> sa(rank), sb(rank);
  int64_t ka = 1, kb = 1;
  for (size_t i = rank; i-- > 0;) {
    if ((ea[i] != eo[i] && ea[i] != 1) || (eb[i] != eo[i] && eb[i] != 1)) return false;
    if (eo[i] != (ea[i] == 1 ? eb[i] : ea[i])) return false;  // wider than both operands
    sa[i] = ea[i] == 1 ? 0 : ka;
    sb[i] = eb[i] == 1 ? 0 : kb;
    ka *= ea[i];
    kb *= eb[i];
  }
  Broadcast r;
  for (size_t i = 0; i < rank; ++i) {
    if (eo[i] == 1) continue;
    if (!r.dims.empty()) {
      // Merge with the previous dimension when both operands continue the same pattern.
      const int64_t d = eo[i];
      const bool a_ok = (r.a.back() == 0 && sa[i] == 0) || (r.a.back() == sa[i] * d && sa[i] != 0);
      const bool b_ok = (r.b.back() == 0 && sb[i] == 0) || (r.b.back() == sb[i] * d && sb[i] != 0);
      if (a_ok && b_ok) {
        r.dims.back() *= d;
        r.a.back() = sa[i];
        r.b.back() = sb[i];
        continue;
      }
    }
    r.dims.push_back(eo[i]);
    r.a.push_back(sa[i]);
    r.b.push_back(sb[i]);
  }
  if (r.dims.empty()) {
    r.dims = {1};
    r.a = {0};
    r.b = {0};
  }
  r.out.assign(r.dims.size(), 1);
  for (size_t i = r.dims.size() - 1; i-- > 0;) r.out[i] = r.out[i + 1] * r.dims[i + 1];
  *result = std::move(r);
  return true;
}

}  // namespace pipecut::runtime
