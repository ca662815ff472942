#include <map>

#include "edgetpu/compile_json.h"
#include "edgetpu/estimate_json.h"
#include "pipecut/edgetpu_estimate.h"

namespace pipecut {

std::vector<TreeFileEstimate> estimate_split_tree(const SplitTree& tree,
                                                  const EdgeTpuDevice& device,
                                                  const std::string& link) {
  std::vector<TreeFileEstimate> out;
  std::map<std::string, EdgeTpuEstimate> by_hash;  // a prefix segment recurs in several folders
  for (const auto& folder : tree.folders) {
    std::map<std::string, nlohmann::ordered_json> records;
    for (const auto& file : folder.files) {
      auto it = by_hash.find(file.sha256);
      if (it == by_hash.end())
        it = by_hash.emplace(file.sha256, estimate_edgetpu(Model::load(file.path), device)).first;
      const std::string rel = file.path.lexically_relative(tree.dir / folder.name).generic_string();
      records[rel] = estimate_json(it->second, link, false);
      out.push_back({folder.name, rel, it->second});
    }
    set_file_records(tree.dir / folder.name, "edgetpu_estimate", records);
  }
  return out;
}

}  // namespace pipecut
