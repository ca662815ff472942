#pragma once
// Reading and writing whole files. Writes are atomic: a temporary file beside the target, flushed,
// then renamed over it, so an interrupted run never leaves a half-written file.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pipecut {

std::vector<uint8_t> read_file(const std::filesystem::path& path);  // throws Error

// A file's bytes mapped read-only (no copy: the pages are the page cache's). The mapping lives
// as long as the object. A file another program truncates while it is mapped makes reads past
// its new end fault (SIGBUS), as with every mmap-based model loader; pipecut never writes a file
// in place, so its own outputs cannot do that to it.
class MappedFile {
 public:
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);  // throws
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  MappedFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  const uint8_t* data_;
  size_t size_;
};
void write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> bytes);
void write_file_atomic(const std::filesystem::path& path, std::string_view text);
// The file whose bytes are the pieces in order, gathered by the kernel (writev): no copy is made
// in user memory first.
void write_file_atomic(const std::filesystem::path& path,
                       std::span<const std::span<const uint8_t>> pieces);

// Lower-case hex SHA-256 (`inspect` prints it: the identity users compare with sha256sum).
std::string sha256_hex(std::span<const uint8_t> bytes);

// Lower-case hex XXH3-128 in canonical (big-endian) order, as `xxhsum -H2` prints it.
std::string xxh3_128_hex(std::span<const uint8_t> bytes);

// The content hash split trees record in meta.json: "xxh3_128:<32 hex>". XXH3 runs at memory
// speed (SHA-256 of a 165 MiB model alone took longer than copying the whole tree's bytes); it
// detects accidental change (a truncated copy, a file replaced by another), not tampering.
std::string content_hash(std::span<const uint8_t> bytes);
// The same hash of the pieces' concatenation.
std::string content_hash(std::span<const std::span<const uint8_t>> pieces);
// Whether `recorded` names an algorithm content_hash_like knows ("xxh3_128:" or "sha256:").
bool is_content_hash(std::string_view recorded);
// The hash of `bytes` with the algorithm `recorded` names ("xxh3_128:..." or, in trees written
// before XXH3, "sha256:..."), for comparing with it; throws Error for any other algorithm.
std::string content_hash_like(std::span<const uint8_t> bytes, std::string_view recorded);

}  // namespace pipecut
