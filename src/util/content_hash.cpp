#include <xxhash.h>

#include "pipecut/error.h"
#include "pipecut/files.h"

namespace pipecut {

namespace {

constexpr std::string_view kXxh3Prefix = "xxh3_128:";
constexpr std::string_view kSha256Prefix = "sha256:";

std::string hex(const unsigned char* bytes, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[bytes[i] >> 4]);
    out.push_back(digits[bytes[i] & 15]);
  }
  return out;
}

}  // namespace

std::string xxh3_128_hex(std::span<const uint8_t> bytes) {
  XXH128_canonical_t canonical;  // big-endian, as xxhsum -H2 prints it
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(bytes.data(), bytes.size()));
  return hex(canonical.digest, sizeof(canonical.digest));
}

std::string content_hash(std::span<const uint8_t> bytes) {
  return std::string(kXxh3Prefix) + xxh3_128_hex(bytes);
}

std::string content_hash_like(std::span<const uint8_t> bytes, std::string_view recorded) {
  if (recorded.rfind(kXxh3Prefix, 0) == 0) return content_hash(bytes);
  if (recorded.rfind(kSha256Prefix, 0) == 0) return std::string(kSha256Prefix) + sha256_hex(bytes);
  throw Error("unknown content hash '" + std::string(recorded.substr(0, 24)) +
              "' (expected xxh3_128:... or sha256:...)");
}

}  // namespace pipecut
