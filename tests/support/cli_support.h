#pragma once
// For the end-to-end tests of the command-line tool (the only tests that link nlohmann_json).
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace pipecut::testing {

// A JSON file the tool wrote (meta.json, verify.json, manifest.json).
inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace pipecut::testing
