// Running edgetpu_compiler over a split tree: one run per distinct file (or per folder when
// co-compiling), N runs at once, each in a scratch folder inside the target tpu/ folder so the
// results are renamed into place whole.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "edgetpu/compile_json.h"
#include "pipecut/edgetpu_compiler.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "util/file_identity.h"
#include "util/process.h"

namespace pipecut {
namespace fs = std::filesystem;

int TreeCompileResult::failed() const {
  return static_cast<int>(
      std::count_if(files.begin(), files.end(), [](const auto& f) { return !f.ok; }));
}

fs::path find_edgetpu_compiler(const fs::path& given) {
  if (!given.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(given, ec) || access(given.c_str(), X_OK) != 0)
      throw Error(given.string() + ": not an executable file (--compiler)");
    return fs::absolute(given);
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / "edgetpu_compiler";
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0)
      return fs::absolute(candidate);
  }
  throw Error(
      "edgetpu_compiler: not found on PATH (install Coral's edgetpu-compiler package or give "
      "--compiler PATH; `pipecut estimate` works without it)");
}

namespace {

// One compiler run: the files it compiles together, all in one folder of the tree.
struct Job {
  const TreeFolder* folder = nullptr;
  std::vector<const TreeFile*> files;
};

std::string stem_of(const TreeFile& file) {
  return file.path.stem().string();
}

std::string relative_to_folder(const TreeFolder& folder, const TreeFile& file,
                               const fs::path& dir) {
  return file.path.lexically_relative(dir / folder.name).generic_string();
}

// The model block the compiler printed for `file`: matched by the input's file name, else by
// position (co-compiled runs print one block per input, in order).
const CompiledModelReport* block_for(const CompilerOutput& out, const TreeFile& file,
                                     size_t position) {
  const std::string name = file.path.filename().string();
  for (const auto& m : out.models)
    if (fs::path(m.input_model).filename().string() == name) return &m;
  return position < out.models.size() ? &out.models[position] : nullptr;
}

bool is_tflite(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) < 8) return false;
  const auto bytes = read_file(path);
  return bytes.size() >= 8 && std::equal(bytes.begin() + 4, bytes.begin() + 8, "TFL3");
}

std::string transcript(const std::vector<std::string>& argv, const fs::path& cwd,
                       const ProcessResult& run) {
  std::string text = "command:";
  for (const auto& a : argv) text += " " + a;
  text += "\nworking folder: " + cwd.string() + "\n";
  text += "result: " + (run.failure().empty() ? std::string("exit status 0") : run.failure());
  text += "\nseconds: " + std::to_string(run.seconds) + "\n";
  if (run.output_truncated) text += "(output cut at 16 MiB)\n";
  text += "--- output ---\n" + run.output;
  if (!run.output.empty() && run.output.back() != '\n') text += "\n";
  return text;
}

// Runs one job and moves its files into place; returns one result per file.
std::vector<FileCompileResult> run_job(const Job& job, const fs::path& compiler,
                                       const fs::path& tree_dir, double timeout) {
  const fs::path tpu = tree_dir / job.folder->name / "tpu";
  fs::create_directories(tpu);
  static std::atomic<int> serial{0};
  const fs::path scratch =
      tpu / (".compiling-" + std::to_string(getpid()) + "-" + std::to_string(serial++));
  fs::create_directories(scratch);
  // Removed on every way out, exceptions included.
  const std::unique_ptr<const fs::path, void (*)(const fs::path*)> remove_scratch(
      &scratch, [](const fs::path* p) {
        std::error_code ec;
        fs::remove_all(*p, ec);
      });
  std::vector<std::string> argv = {compiler.string(), "-s", "-o", scratch.string()};
  for (const TreeFile* f : job.files) argv.push_back(f->path.string());
  const ProcessResult run = run_process(argv, scratch, timeout);
  const CompilerOutput out = parse_compiler_output(run.output);
  const std::string text = transcript(argv, scratch, run);

  std::vector<FileCompileResult> results;
  for (size_t i = 0; i < job.files.size(); ++i) {
    const TreeFile& file = *job.files[i];
    const std::string stem = stem_of(file);
    FileCompileResult r;
    r.folder = job.folder->name;
    r.file = relative_to_folder(*job.folder, file, tree_dir);
    r.compiler_version = out.version;
    r.seconds = run.seconds;
    if (const auto* block = block_for(out, file, i)) r.report = *block;
    r.report_complete = r.report.complete && out.complete;
    r.transcript = "tpu/" + stem + "_compile.txt";
    const fs::path model_out = scratch / (stem + "_edgetpu.tflite");
    const fs::path log_out = scratch / (stem + "_edgetpu.log");
    if (!run.failure().empty()) {
      r.failure = run.failure();
      if (!out.failures.empty()) r.failure += ": " + out.failures.back();
    } else if (!fs::exists(model_out)) {
      r.failure = "the compiler wrote no " + stem + "_edgetpu.tflite";
      if (!out.failures.empty()) r.failure += ": " + out.failures.back();
    } else if (!is_tflite(model_out)) {
      r.failure = "the compiler's " + stem + "_edgetpu.tflite is not a TFLite model";
    } else {
      r.ok = true;
    }
    // A failed file keeps no compiled model from an earlier run that could be taken for this one.
    std::error_code ec;
    if (r.ok) {
      fs::rename(model_out, tpu / model_out.filename());
      r.output = "tpu/" + model_out.filename().string();
    } else {
      fs::remove(tpu / model_out.filename(), ec);
    }
    if (fs::exists(log_out, ec)) {
      fs::rename(log_out, tpu / log_out.filename());
      r.log = "tpu/" + log_out.filename().string();
    }
    write_file_atomic(tpu / (stem + "_compile.txt"), text);
    results.push_back(std::move(r));
  }
  return results;
}

// Gives `file` (byte-identical to the one `done` compiled, in another folder) the compiled
// files, as hard links named after its own stem.
FileCompileResult share_result(const FileCompileResult& done, const TreeFolder& folder,
                               const TreeFile& file, const fs::path& tree_dir) {
  FileCompileResult r = done;
  r.folder = folder.name;
  r.file = relative_to_folder(folder, file, tree_dir);
  r.compiled_as = "../" + done.folder + "/" + done.file;
  const std::string stem = file.path.stem().string();
  const std::string done_stem = fs::path(done.file).stem().string();
  const fs::path from = tree_dir / done.folder, to = tree_dir / folder.name;
  fs::create_directories(to / "tpu");
  const auto rename_stem = [&](const std::string& rel) {
    std::string name = fs::path(rel).filename().string();
    return "tpu/" + stem + name.substr(done_stem.size());
  };
  for (std::string* rel : {&r.output, &r.log, &r.transcript}) {
    if (rel->empty()) continue;
    const std::string source = *rel;
    *rel = rename_stem(source);
    const fs::path target = to / *rel, temp = to / (*rel + ".part");
    std::error_code ec;
    fs::remove(temp, ec);
    fs::create_hard_link(from / source, temp, ec);
    if (ec) fs::copy_file(from / source, temp, fs::copy_options::overwrite_existing);
    fs::rename(temp, target);
  }
  if (!r.ok) {
    std::error_code ec;
    fs::remove(to / "tpu" / (stem + "_edgetpu.tflite"), ec);
  }
  return r;
}

}  // namespace

TreeCompileResult compile_split_tree(const SplitTree& tree, const CompileOptions& options) {
  TreeCompileResult result;
  result.compiler = find_edgetpu_compiler(options.compiler);

  std::vector<Job> jobs;
  // A file is compiled once per inode: the split writes a repeated prefix segment as hard links,
  // which are certainly the same bytes (meta.json's hash is not trusted for this).
  std::map<FileIdentity, std::pair<const TreeFolder*, const TreeFile*>> first_of_inode;
  std::vector<std::tuple<const TreeFolder*, const TreeFile*, const TreeFile*>> shared;
  for (const auto& folder : tree.folders) {
    if (options.cocompile) {
      Job job{&folder, {}};
      for (const auto& file : folder.files) job.files.push_back(&file);
      jobs.push_back(job);
      continue;
    }
    for (const auto& file : folder.files) {
      const auto [it, fresh] = first_of_inode.try_emplace(file_identity(file.path), &folder, &file);
      if (fresh) {
        jobs.push_back({&folder, {&file}});
      } else {
        shared.emplace_back(&folder, &file, it->second.second);
      }
    }
  }

  std::mutex mutex;
  std::map<const TreeFile*, FileCompileResult> by_file;
  std::atomic<size_t> next{0};
  std::atomic<int64_t> done{0};
  std::exception_ptr error;
  const auto total = static_cast<int64_t>(jobs.size());
  if (options.progress) options.progress(0, total, "compiling");
  const auto worker = [&] {
    while (true) {
      const size_t i = next++;
      if (i >= jobs.size()) return;
      try {
        auto results = run_job(jobs[i], result.compiler, tree.dir, options.timeout_seconds);
        std::lock_guard lock(mutex);
        for (size_t k = 0; k < results.size(); ++k)
          by_file[jobs[i].files[k]] = std::move(results[k]);
        const int64_t now = ++done;
        if (options.progress)
          options.progress(now, total,
                           jobs[i].folder->name + "/" + jobs[i].files[0]->path.filename().string());
      } catch (const std::exception& e) {  // file system trouble stops the whole job
        std::lock_guard lock(mutex);
        if (!error) error = std::make_exception_ptr(Error(e.what()));
        next = jobs.size();
      }
    }
  };
  const int threads = std::clamp(options.jobs, 1, std::max(1, static_cast<int>(jobs.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  for (const auto& [folder, file, original] : shared) {
    const FileCompileResult& first = by_file.at(original);
    by_file[file] = share_result(first, *folder, *file, tree.dir);
  }
  for (const auto& folder : tree.folders) {
    std::map<std::string, nlohmann::ordered_json> records;
    for (const auto& file : folder.files) {
      auto& r = by_file.at(&file);
      records[r.file] = file_compile_json(r, result.compiler);
      if (options.cocompile) {
        nlohmann::ordered_json with = nlohmann::ordered_json::array();
        for (const auto& other : folder.files)
          if (&other != &file) with.push_back(relative_to_folder(folder, other, tree.dir));
        records[r.file]["cocompiled_with"] = with;
      }
      result.files.push_back(r);
    }
    set_file_records(tree.dir / folder.name, "edgetpu", records);
  }
  return result;
}

}  // namespace pipecut
