#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "layout/meta_json.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/split_tree.h"

namespace pipecut {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> names(const nlohmann::ordered_json& list) {
  std::vector<std::string> out;
  for (const auto& t : list) out.push_back(t.at("name").get<std::string>());
  return out;
}

// "hash" as written today, or the bare SHA-256 hex older trees wrote under "sha256".
std::string recorded_hash(const nlohmann::json& object, const fs::path& meta_path) {
  if (object.contains("hash")) {
    const auto hash = object.at("hash").get<std::string>();
    if (!is_content_hash(hash)) {
      throw Error(meta_path.string() + ": unknown hash '" + hash.substr(0, 24) +
                  "' (expected xxh3_128:... or sha256:...)");
    }
    return hash;
  }
  return "sha256:" + object.at("sha256").get<std::string>();
}

TreeFolder read_folder(const fs::path& dir, const std::string& name) {
  const fs::path meta_path = dir / name / "meta.json";
  const auto meta = read_meta_file(meta_path);
  TreeFolder folder;
  folder.name = name;
  try {
    for (const auto& f : meta.at("files")) {
      TreeFile file;
      file.path = dir / name / f.at("file").get<std::string>();
      file.role = f.at("role").get<std::string>();
      file.first_segment = f.at("segments").at(0).get<int>();
      file.last_segment = f.at("segments").at(1).get<int>();
      file.inputs = names(f.at("inputs"));
      file.outputs = names(f.at("outputs"));
      if (f.contains("ops")) {
        file.first_op = f.at("ops").at("first").get<int>();
        file.last_op = f.at("ops").at("last").get<int>();
      }
      file.hash = recorded_hash(f, meta_path);
      folder.files.push_back(std::move(file));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(meta_path.string() + ": malformed (" + e.what() + ")");
  }
  if (folder.files.empty()) throw Error(meta_path.string() + ": lists no files");
  return folder;
}

}  // namespace

SplitTree read_split_tree(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw Error(dir.string() + ": not a folder");
  SplitTree tree;
  tree.dir = fs::absolute(dir).lexically_normal();
  const auto top = read_meta_file(dir / "full_split" / "meta.json");
  // Trees carry the tool that wrote them; another tool's or a future layout is refused whole.
  if (!top.is_object() || (top.contains("tool") && !top["tool"].is_string()))
    throw Error((dir / "full_split" / "meta.json").string() +
                ": malformed (not a pipecut meta.json)");
  const auto tool = top.value("tool", std::string());
  if (tool.rfind("pipecut 0.", 0) != 0) {
    throw Error((dir / "full_split" / "meta.json").string() + ": written by '" +
                (tool.empty() ? "an unknown tool" : tool) +
                "', not by this pipecut (0.x); split the model again");
  }
  try {
    const auto& source = top.at("source");
    tree.source = source.contains("absolute_path") ? source.at("absolute_path").get<std::string>()
                                                   : source.at("path").get<std::string>();
    tree.source_hash = recorded_hash(source, dir / "full_split" / "meta.json");
  } catch (const nlohmann::json::exception& e) {
    throw Error((dir / "full_split" / "meta.json").string() + ": malformed (" + e.what() + ")");
  }
  tree.folders.push_back(read_folder(tree.dir, "full_split"));
  const int k = static_cast<int>(tree.folders[0].files.size());
  for (int n = 2; n <= k; ++n)
    tree.folders.push_back(read_folder(tree.dir, "pairs_k" + std::to_string(n)));
  return tree;
}

}  // namespace pipecut
