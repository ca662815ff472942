#pragma once
// Reading and writing whole files. Writes are atomic: a temporary file beside the target, flushed,
// then renamed over it, so an interrupted run never leaves a half-written file.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pipecut {

std::vector<uint8_t> read_file(const std::filesystem::path& path);  // throws Error
void write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> bytes);
void write_file_atomic(const std::filesystem::path& path, std::string_view text);

// Lower-case hex SHA-256.
std::string sha256_hex(std::span<const uint8_t> bytes);

}  // namespace pipecut
