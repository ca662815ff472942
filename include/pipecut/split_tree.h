#pragma once
// Reading back a tree that `pipecut split` wrote: its folders, files and boundary tensors, from
// the meta.json files, so the runtime commands can run and check it.
#include <filesystem>
#include <string>
#include <vector>

namespace pipecut {

struct TreeFile {
  std::filesystem::path path;  // absolute
  std::string role;            // "segment" or "tail"
  int first_segment = 1, last_segment = 1;
  std::vector<std::string> inputs, outputs;  // boundary tensor names, in the file's order
  int first_op = -1, last_op = -1;           // its ops in the source model (-1: not recorded)
  std::string hash;  // as recorded: "xxh3_128:..." (or "sha256:..." in older trees)
};

struct TreeFolder {
  std::string name;  // "full_split", "pairs_k2", ...
  std::vector<TreeFile> files;
};

struct SplitTree {
  std::filesystem::path dir;
  std::filesystem::path source;     // the source model as meta.json records it (absolute if known)
  std::string source_hash;          // the same, of the source model
  std::vector<TreeFolder> folders;  // full_split first, then pairs_k2 .. pairs_kK
  const TreeFolder& full_split() const { return folders.front(); }
};

// Throws pipecut::Error naming the folder and what is missing or malformed.
SplitTree read_split_tree(const std::filesystem::path& dir);

}  // namespace pipecut
