#pragma once
// meta.json and note.txt of the split tree: the same facts for programs and for people.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipecut/layout.h"

namespace pipecut {

std::string folder_meta_json(const Model& model, const std::string& source_sha,
                             const SplitPlan& plan, const std::string& folder,
                             const std::vector<WrittenFile>& files);
std::string folder_note(const Model& model, const SplitPlan& plan, const std::string& folder,
                        const std::vector<WrittenFile>& files);
std::string tree_meta_json(const Model& model, const std::string& source_sha, const SplitPlan& plan,
                           const TreeSummary& summary);

// Reads a tree's meta.json (keys in file order, so a rewrite keeps them). Throws pipecut::Error
// naming the file when it is missing or not JSON.
nlohmann::ordered_json read_meta_file(const std::filesystem::path& path);

}  // namespace pipecut
