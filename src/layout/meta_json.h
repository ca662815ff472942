#pragma once
// meta.json and note.txt of the split tree: the same facts for programs and for people.
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

}  // namespace pipecut
