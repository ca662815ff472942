#include <unistd.h>

#include <map>

#include "layout/meta_json.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/layout.h"

namespace pipecut {
namespace fs = std::filesystem;

namespace {

std::string segment_file(int segment) {
  return "seg" + std::to_string(segment) + "_int8.tflite";
}
std::string tail_file(int first, int last) {
  return "tail_seg" + std::to_string(first) + "_to_" + std::to_string(last) + "_int8.tflite";
}

struct Built {
  SegmentPlan plan;
  std::vector<uint8_t> bytes;
  std::string sha256;
};

// Serialized files by segment range: full_split's segment i and every pairs_k prefix segment i
// are the same bytes, so each is built once and written where it belongs. Single segments reuse
// the plans already made; a tail (segments k..K) gets its own plan and, used once, is not kept.
class FileCache {
 public:
  FileCache(const Model& model, const Graph& graph, const std::vector<SegmentPlan>& segments)
      : model_(model), graph_(graph), segments_(segments) {}
  const Built& get(int first_seg, int last_seg) {
    const bool single = first_seg == last_seg;
    if (single) {
      auto it = cache_.find(first_seg);
      if (it != cache_.end()) return it->second;
    }
    SegmentPlan plan =
        single
            ? segments_[static_cast<size_t>(first_seg - 1)]
            : plan_op_range(model_, graph_, segments_[static_cast<size_t>(first_seg - 1)].first_op,
                            segments_[static_cast<size_t>(last_seg - 1)].last_op);
    auto bytes = write_segment(model_, plan);
    std::string sha = sha256_hex(bytes);
    Built built{std::move(plan), std::move(bytes), std::move(sha)};
    if (!single) {
      scratch_ = std::move(built);
      return scratch_;
    }
    return cache_.emplace(first_seg, std::move(built)).first->second;
  }

 private:
  const Model& model_;
  const Graph& graph_;
  const std::vector<SegmentPlan>& segments_;
  std::map<int, Built> cache_;
  Built scratch_;
};

fs::path sibling(const fs::path& dir, const std::string& tag) {
  return dir.parent_path() /
         ("." + dir.filename().string() + "." + tag + "-" + std::to_string(::getpid()));
}

}  // namespace

void write_model_file(const fs::path& path, const std::vector<uint8_t>& bytes, bool force) {
  if (fs::exists(path) && !force) {
    throw Error(path.string() + ": exists; pass --force to replace it");
  }
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  write_file_atomic(path, bytes);
}

TreeSummary write_split_tree(const Model& model, const Graph& graph, const SplitPlan& plan,
                             const fs::path& out_dir_arg, const TreeOptions& options) {
  const fs::path out_dir = fs::absolute(out_dir_arg).lexically_normal();
  if (out_dir.filename().empty()) throw Error(out_dir_arg.string() + ": not a usable folder name");
  if (fs::exists(out_dir) && !options.force) {
    throw Error(out_dir_arg.string() + ": exists; pass --force to replace it");
  }
  if (fs::exists(out_dir) && !fs::is_directory(out_dir)) {
    throw Error(out_dir_arg.string() + ": exists and is not a folder");
  }
  fs::create_directories(out_dir.parent_path());
  const fs::path staging = sibling(out_dir, "partial");
  fs::remove_all(staging);

  const auto segments = plan_segments(model, graph, plan.cut_positions);
  const int k = static_cast<int>(segments.size());
  const int64_t total_files = k + (k * (k + 1) / 2 - 1);
  int64_t done = 0;
  auto progress = [&](const std::string& what) {
    if (options.progress) options.progress(done, total_files, what);
  };

  TreeSummary summary;
  summary.out_dir = out_dir;
  FileCache cache(model, graph, segments);
  const std::string source_sha = sha256_hex(model.bytes());
  try {
    auto emit = [&](const std::string& folder, const std::string& name, const std::string& role,
                    int first_seg, int last_seg, std::vector<WrittenFile>& folder_files) {
      progress(folder + "/" + name);
      const auto& [seg_plan, bytes, sha] = cache.get(first_seg, last_seg);
      const fs::path rel = fs::path(folder) / "tflite" / name;
      fs::create_directories(staging / rel.parent_path());
      write_file_atomic(staging / rel, bytes);
      WrittenFile f{folder,
                    rel.string(),
                    role,
                    first_seg,
                    last_seg,
                    seg_plan,
                    static_cast<int64_t>(bytes.size()),
                    sha};
      summary.bytes_written += f.file_bytes;
      folder_files.push_back(f);
      summary.files.push_back(std::move(f));
      ++done;
    };
    auto finish_folder = [&](const std::string& folder, const std::vector<WrittenFile>& files) {
      const auto meta = folder_meta_json(model, source_sha, plan, folder, files);
      write_file_atomic(staging / folder / "meta.json", meta);
      write_file_atomic(staging / folder / "note.txt", folder_note(model, plan, folder, files));
    };

    std::vector<WrittenFile> full;
    for (int s = 1; s <= k; ++s) emit("full_split", segment_file(s), "segment", s, s, full);
    finish_folder("full_split", full);
    for (int n = 2; n <= k; ++n) {
      const std::string folder = "pairs_k" + std::to_string(n);
      std::vector<WrittenFile> files;
      for (int s = 1; s < n; ++s) emit(folder, segment_file(s), "segment", s, s, files);
      emit(folder, tail_file(n, k), "tail", n, k, files);
      finish_folder(folder, files);
    }
    write_file_atomic(staging / "meta.json", tree_meta_json(model, source_sha, plan, summary));

    // Swap the finished tree into place; an old tree is moved aside first and removed last.
    if (fs::exists(out_dir)) {
      const fs::path old = sibling(out_dir, "old");
      fs::remove_all(old);
      fs::rename(out_dir, old);
      fs::rename(staging, out_dir);
      fs::remove_all(old);
    } else {
      fs::rename(staging, out_dir);
    }
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(staging);
    throw Error(out_dir_arg.string() + ": " + e.what());
  } catch (...) {
    std::error_code ignore;
    fs::remove_all(staging, ignore);
    throw;
  }
  progress("done");
  return summary;
}

}  // namespace pipecut
