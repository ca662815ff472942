#pragma once
// Raw float32 files and the comparisons the import tests make with them (PyTorch's outputs,
// reference evaluations), shared by cli_import_test and cli_import_torch_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <vector>

#include "pipecut/files.h"

namespace pipecut::testing {

inline std::vector<float> read_floats(const std::filesystem::path& path) {
  const auto bytes = read_file(path);
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

inline void write_floats(const std::filesystem::path& path, const std::vector<float>& v) {
  write_file_atomic(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size() * 4));
}

// NCHW data ([n, c, h, w]) as NHWC.
inline std::vector<float> nchw_to_nhwc(const std::vector<float>& x, int64_t n, int64_t c, int64_t h,
                                       int64_t w) {
  std::vector<float> out(x.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t z = 0; z < w; ++z)
          out[static_cast<size_t>(((b * h + y) * w + z) * c + k)] =
              x[static_cast<size_t>(((b * c + k) * h + y) * w + z)];
  return out;
}

// The largest difference relative to the reference's range (sizes must match).
inline double relative_gap(const std::vector<float>& a, const std::vector<float>& ref) {
  EXPECT_EQ(a.size(), ref.size());
  if (ref.empty()) return 0;
  float lo = ref[0], hi = ref[0], gap = 0;
  for (size_t i = 0; i < ref.size() && i < a.size(); ++i) {
    lo = std::min(lo, ref[i]);
    hi = std::max(hi, ref[i]);
    gap = std::max(gap, std::abs(a[i] - ref[i]));
  }
  return gap / std::max(hi - lo, 1e-30f);
}

}  // namespace pipecut::testing
