#pragma once
// The pictures a command is given: files named directly, or the JPEG, PNG and BMP files in the
// folders named, in name order.
#include <filesystem>
#include <string>
#include <vector>

namespace pipecut::cli {

// Throws pipecut::Error for a folder without any picture.
std::vector<std::filesystem::path> pictures(const std::vector<std::string>& paths);

}  // namespace pipecut::cli
