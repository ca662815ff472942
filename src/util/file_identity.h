#pragma once
// Which names are the same file: hard links share one identity, so work on one holds for all
// (the split tree links repeated prefix segments).
#include <sys/types.h>

#include <filesystem>
#include <utility>

namespace pipecut {

using FileIdentity = std::pair<dev_t, ino_t>;

// Throws pipecut::Error naming the file when it cannot be read.
FileIdentity file_identity(const std::filesystem::path& path);

}  // namespace pipecut
