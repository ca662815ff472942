#include <map>

#include "edgetpu/compile_json.h"
#include "edgetpu/estimate_json.h"
#include "pipecut/edgetpu_estimate.h"
#include "util/file_identity.h"

namespace pipecut {

std::vector<TreeFileEstimate> estimate_split_tree(const SplitTree& tree,
                                                  const EdgeTpuDevice& device,
                                                  const std::string& link, bool record_in_meta) {
  std::vector<TreeFileEstimate> out;
  std::map<FileIdentity, EdgeTpuEstimate> by_file;  // a prefix segment recurs in several folders
  for (const auto& folder : tree.folders) {
    std::map<std::string, nlohmann::ordered_json> records;
    for (const auto& file : folder.files) {
      auto it = by_file.find(file_identity(file.path));
      if (it == by_file.end())
        it =
            by_file
                .emplace(file_identity(file.path), estimate_edgetpu(Model::load(file.path), device))
                .first;
      const std::string rel = file.path.lexically_relative(tree.dir / folder.name).generic_string();
      records[rel] = estimate_json(it->second, link, false);
      out.push_back({folder.name, rel, it->second});
    }
    if (record_in_meta) set_file_records(tree.dir / folder.name, "edgetpu_estimate", records);
  }
  return out;
}

}  // namespace pipecut
