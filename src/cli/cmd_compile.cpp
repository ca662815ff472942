// pipecut compile TREE: edgetpu_compiler on every file of a split tree, logs kept beside each.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/table.h"
#include "edgetpu/compile_json.h"
#include "pipecut/edgetpu_compiler.h"
#include "pipecut/error.h"
#include "pipecut/sizes.h"

namespace pipecut::cli {

namespace {

struct CompileArgs {
  std::string dir;
  std::string compiler;
  int jobs = 2;
  double timeout = 600;
  bool cocompile = false;
  bool json = false;
};

std::string size_cell(const std::optional<int64_t>& bytes) {
  return bytes ? format_size(*bytes) : "?";
}

}  // namespace

void add_compile(CLI::App& app) {
  auto args = std::make_shared<CompileArgs>();
  CLI::App* cmd = app.add_subcommand(
      "compile",
      "Run edgetpu_compiler on every file of a split tree; keep its log beside each file and "
      "record its memory report in meta.json");
  cmd->add_option("tree", args->dir, "folder written by pipecut split")->required();
  cmd->add_option("--compiler", args->compiler, "the compiler (default: edgetpu_compiler on PATH)");
  cmd->add_option("-j,--jobs", args->jobs, "compiler runs at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--timeout", args->timeout, "seconds per run before it is killed")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  cmd->add_flag("--cocompile", args->cocompile,
                "compile each folder's files together, sharing one TPU's parameter cache");
  cmd->add_flag("--json", args->json, "print the results as JSON");
  cmd->callback([args] {
    const SplitTree tree = read_split_tree(args->dir);
    CompileOptions options;
    options.compiler = args->compiler;
    options.jobs = args->jobs;
    options.timeout_seconds = args->timeout;
    options.cocompile = args->cocompile;
    ProgressBar bar(!args->json);
    options.progress = bar.callback();
    const TreeCompileResult result = compile_split_tree(tree, options);
    bar.finish();
    if (args->json) {
      nlohmann::ordered_json files = nlohmann::ordered_json::array();
      for (const auto& f : result.files) {
        auto entry = nlohmann::ordered_json{{"folder", f.folder}, {"file", f.file}};
        entry.update(file_compile_json(f, result.compiler));
        files.push_back(entry);
      }
      std::cout << nlohmann::ordered_json{{"tree", tree.dir.string()},
                                          {"compiler", result.compiler.string()},
                                          {"failed", result.failed()},
                                          {"files", files}}
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    } else {
      Table table({"folder", "file", "on chip", "off chip", "ops on TPU", "result"},
                  {false, false, true, true, true, false});
      for (const auto& f : result.files) {
        const auto& r = f.report;
        std::string ops = "?";
        if (r.total_ops) {
          const int on_tpu = r.ops_on_tpu ? *r.ops_on_tpu : *r.total_ops;
          ops = std::to_string(on_tpu) + "/" + std::to_string(*r.total_ops);
        }
        std::string outcome = f.ok ? "ok" : "FAILED: " + f.failure;
        if (f.ok && !f.report_complete) outcome += " (report incomplete)";
        table.add({f.folder, f.file, size_cell(r.on_chip_used), size_cell(r.off_chip_used), ops,
                   outcome});
      }
      table.print(std::cout);
      std::cout << result.files.size() << " files, " << result.failed() << " failed; compiler "
                << result.compiler.string() << "; logs in each folder's tpu/\n";
    }
    if (result.failed() > 0) {
      throw Error(args->dir + ": " + std::to_string(result.failed()) + " of " +
                  std::to_string(result.files.size()) +
                  " files did not compile (see meta.json and tpu/*_compile.txt)");
    }
  });
}

}  // namespace pipecut::cli
