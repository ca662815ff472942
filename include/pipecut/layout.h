#pragma once
// The output tree of `pipecut split`:
//   OUTDIR/full_split/tflite/seg1_int8.tflite .. segK_int8.tflite, meta.json, note.txt
//   OUTDIR/pairs_kN/tflite/seg1..seg(N-1)_int8.tflite + tail_segN_to_K_int8.tflite, meta.json,
//   note.txt   for N = 2..K
// The tree is built beside OUTDIR and renamed into place, so OUTDIR is either the old tree or
// the whole new one.
#include <filesystem>
#include <string>
#include <vector>

#include "pipecut/graph.h"
#include "pipecut/model.h"
#include "pipecut/planner.h"
#include "pipecut/progress.h"
#include "pipecut/slicer.h"

namespace pipecut {

struct TreeOptions {
  bool force = false;   // replace an existing OUTDIR
  ProgressFn progress;  // may be empty
};

struct WrittenFile {
  std::string folder;                       // "full_split", "pairs_k3"
  std::string path;                         // relative to OUTDIR
  std::string role;                         // "segment" or "tail"
  int first_segment = 1, last_segment = 1;  // 1-based segments it holds
  SegmentPlan plan;
  int64_t file_bytes = 0;
  std::string hash;  // content_hash() of the file
  // A prefix segment appears in full_split and in several pairs_kN folders with the same bytes:
  // after the first, each is a hard link to it (relative to OUTDIR here), so every folder still
  // stands alone (removing one folder leaves the others whole) and the bytes go to disk once.
  // Empty for a file written anew (the first of its kind, or where the file system refuses links).
  std::string hard_link_of;
};

struct TreeSummary {
  std::filesystem::path out_dir;
  std::vector<WrittenFile> files;
  int64_t bytes_written = 0;  // bytes of all files in the tree, hard links included
  int64_t bytes_linked = 0;   // of those, bytes in hard links (not written again)
};

TreeSummary write_split_tree(const Model& model, const Graph& graph, const SplitPlan& plan,
                             const std::filesystem::path& out_dir, const TreeOptions& options);

// Writes one file atomically, creating its folder; refuses to overwrite without `force`.
void write_model_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes,
                      bool force);

}  // namespace pipecut
