#pragma once
// The zoo's random numbers: splitmix64 and the polar Box-Muller method, our own rather than the
// standard library's distributions (whose algorithms each library chooses), so a model's bytes
// depend on its name and seed, not on the C++ library (the float math still goes through libm).
// Inline: the builder draws one per weight (VGG19: 143 M).
#include <cmath>
#include <cstdint>
#include <string>

namespace pipecut::zoo {

namespace rng_detail {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t fnv1a(const std::string& text) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001B3ull;
  }
  return hash;
}

}  // namespace rng_detail

// A random stream per (seed, layer key): a layer's values do not depend on the layers before it.
class Rng {
 public:
  Rng(uint64_t seed, const std::string& key) {
    uint64_t s = seed;
    state_ = rng_detail::splitmix64(s) ^ rng_detail::fnv1a(key);
  }
  // [0, 1), 53 bits.
  double uniform() { return static_cast<double>(rng_detail::splitmix64(state_) >> 11) * 0x1.0p-53; }
  // Standard normal.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    // Marsaglia's polar form of Box-Muller: two normals per accepted point of the unit disc.
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

 private:
  uint64_t state_ = 0;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace pipecut::zoo
