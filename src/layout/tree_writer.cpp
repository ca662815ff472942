#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <system_error>
#include <thread>
#include <utility>

#include "layout/meta_json.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/layout.h"

namespace pipecut {
namespace fs = std::filesystem;

namespace {

// "int8" for a quantized model (any 8-bit weights), "float32" for a float one (an import).
std::string kind_of(const Model& model) {
  for (const Tensor& t : model.tensors()) {
    if (!t.data.empty() && is_8bit(t.type)) return "int8";
  }
  return "float32";
}
std::string segment_file(int segment, const std::string& kind) {
  return "seg" + std::to_string(segment) + "_" + kind + ".tflite";
}
std::string tail_file(int first, int last, const std::string& kind) {
  return "tail_seg" + std::to_string(first) + "_to_" + std::to_string(last) + "_" + kind +
         ".tflite";
}

// One file of the tree, in the order the tree lists them.
struct Entry {
  std::string folder, name, role;
  int first_seg = 1, last_seg = 1;
  int content = -1;  // index of its segment range among the distinct ones
};

// A distinct segment range, serialized, hashed and written once (at the first entry that holds
// it); later entries with the same range are hard links to that file.
struct Content {
  int first_seg = 1, last_seg = 1;
  std::string rel;  // where it was written, relative to the tree
  SegmentPlan plan;
  int64_t bytes = 0;
  std::string hash;
};

// Builds and writes every content on up to `threads` threads (serializing, hashing and the
// kernel's copy into the page cache are each CPU work, so the cores share them); the first
// exception stops the others and is rethrown.
void write_contents(const Model& model, const Graph& graph,
                    const std::vector<SegmentPlan>& segments, const fs::path& staging,
                    std::vector<Content>& contents,
                    const std::function<void(const Content&)>& done) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mutex;
  // Largest first: the threads finish together (the big tails are not left to one thread at the
  // end), and each thread's reused builder memory grows once, to its first file.
  std::vector<size_t> order(contents.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const auto weight = [&](const Content& c) {
    int64_t bytes = 0;
    for (int s = c.first_seg; s <= c.last_seg; ++s)
      bytes += segments[static_cast<size_t>(s - 1)].stored_param_bytes;
    return bytes;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return weight(contents[a]) > weight(contents[b]); });
  auto work = [&] {
    for (size_t i; !failed && (i = next++) < contents.size();) {
      Content& c = contents[order[i]];
      try {
        c.plan = c.first_seg == c.last_seg
                     ? segments[static_cast<size_t>(c.first_seg - 1)]
                     : plan_op_range(model, graph,
                                     segments[static_cast<size_t>(c.first_seg - 1)].first_op,
                                     segments[static_cast<size_t>(c.last_seg - 1)].last_op);
        write_segment_to(model, c.plan, [&](FilePieces pieces) {
          c.bytes = 0;
          for (const auto& p : pieces) c.bytes += static_cast<int64_t>(p.size());
          c.hash = content_hash(pieces);
          write_file_atomic(staging / c.rel, pieces);
        });
        const std::lock_guard<std::mutex> lock(mutex);
        done(c);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  const size_t threads =
      std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), 4, contents.size()});
  std::vector<std::thread> helpers;
  try {
    for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  } catch (const std::system_error&) {  // no more threads to be had: the ones started do the work
  }
  work();
  for (std::thread& t : helpers) t.join();
  if (error) std::rethrow_exception(error);
}

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

  // The tree's files in order: full_split's segments, then each pairs_kN's prefix segments and
  // its tail; each distinct segment range once among the contents.
  std::vector<Entry> entries;
  const std::string kind = kind_of(model);
  for (int s = 1; s <= k; ++s)
    entries.push_back({"full_split", segment_file(s, kind), "segment", s, s});
  for (int n = 2; n <= k; ++n) {
    const std::string folder = "pairs_k" + std::to_string(n);
    for (int s = 1; s < n; ++s) entries.push_back({folder, segment_file(s, kind), "segment", s, s});
    entries.push_back({folder, tail_file(n, k, kind), "tail", n, k});
  }
  std::vector<Content> contents;
  std::map<std::pair<int, int>, int> content_of;
  for (Entry& e : entries) {
    const auto [it, added] = content_of.emplace(std::make_pair(e.first_seg, e.last_seg),
                                                static_cast<int>(contents.size()));
    if (added) {
      Content c;
      c.first_seg = e.first_seg;
      c.last_seg = e.last_seg;
      c.rel = (fs::path(e.folder) / "tflite" / e.name).string();
      contents.push_back(std::move(c));
    }
    e.content = it->second;
  }

  const int64_t total_files = static_cast<int64_t>(entries.size());
  int64_t done = 0;
  auto progress = [&](const std::string& what) {
    ++done;
    if (options.progress) options.progress(done, total_files, what);
  };

  TreeSummary summary;
  summary.out_dir = out_dir;
  try {
    for (const Entry& e : entries) fs::create_directories(staging / e.folder / "tflite");
    write_contents(model, graph, segments, staging, contents,
                   [&](const Content& c) { progress(c.rel); });

    const std::string source_hash = content_hash(model.bytes());
    std::map<std::string, std::vector<WrittenFile>> by_folder;
    std::vector<std::string> folders;
    for (const Entry& e : entries) {
      const Content& c = contents[static_cast<size_t>(e.content)];
      const std::string rel = (fs::path(e.folder) / "tflite" / e.name).string();
      std::string linked;
      if (rel != c.rel) {
        // The same bytes are already in the tree: link to them (the folder rename below keeps
        // links intact); where the file system refuses links, copy the file.
        std::error_code ec;
        fs::create_hard_link(staging / c.rel, staging / rel, ec);
        if (ec) {
          fs::copy_file(staging / c.rel, staging / rel);
        } else {
          linked = c.rel;
        }
        progress(rel);
      }
      WrittenFile f{e.folder, rel,     e.role, e.first_seg, e.last_seg,
                    c.plan,   c.bytes, c.hash, linked};
      summary.bytes_written += f.file_bytes;
      if (!linked.empty()) summary.bytes_linked += f.file_bytes;
      if (by_folder.find(e.folder) == by_folder.end()) folders.push_back(e.folder);
      by_folder[e.folder].push_back(f);
      summary.files.push_back(std::move(f));
    }
    for (const std::string& folder : folders) {
      const std::vector<WrittenFile>& files = by_folder[folder];
      write_file_atomic(staging / folder / "meta.json",
                        folder_meta_json(model, source_hash, plan, folder, files));
      write_file_atomic(staging / folder / "note.txt", folder_note(model, plan, folder, files));
    }
    write_file_atomic(staging / "meta.json", tree_meta_json(model, source_hash, plan, summary));

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
  if (options.progress) options.progress(total_files, total_files, "done");
  return summary;
}

}  // namespace pipecut
