#include <xxhash.h>

#include <memory>
#include <new>

#include "pipecut/error.h"
#include "pipecut/files.h"
#include "util/hex.h"

namespace pipecut {

namespace {

constexpr std::string_view kXxh3Prefix = "xxh3_128:";
constexpr std::string_view kSha256Prefix = "sha256:";

}  // namespace

std::string xxh3_128_hex(std::span<const uint8_t> bytes) {
  XXH128_canonical_t canonical;  // big-endian, as xxhsum -H2 prints it
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(bytes.data(), bytes.size()));
  return lower_hex(canonical.digest, sizeof(canonical.digest));
}

std::string content_hash(std::span<const uint8_t> bytes) {
  return std::string(kXxh3Prefix) + xxh3_128_hex(bytes);
}

std::string content_hash(std::span<const std::span<const uint8_t>> pieces) {
  struct StateDeleter {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
  };
  const std::unique_ptr<XXH3_state_t, StateDeleter> state(XXH3_createState());
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK) throw std::bad_alloc();
  for (const auto& piece : pieces) XXH3_128bits_update(state.get(), piece.data(), piece.size());
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state.get()));
  return std::string(kXxh3Prefix) + lower_hex(canonical.digest, sizeof(canonical.digest));
}

bool is_content_hash(std::string_view recorded) {
  return recorded.rfind(kXxh3Prefix, 0) == 0 || recorded.rfind(kSha256Prefix, 0) == 0;
}

std::string content_hash_like(std::span<const uint8_t> bytes, std::string_view recorded) {
  if (recorded.rfind(kXxh3Prefix, 0) == 0) return content_hash(bytes);
  if (recorded.rfind(kSha256Prefix, 0) == 0) return std::string(kSha256Prefix) + sha256_hex(bytes);
  throw Error("unknown content hash '" + std::string(recorded.substr(0, 24)) +
              "' (expected xxh3_128:... or sha256:...)");
}

}  // namespace pipecut
