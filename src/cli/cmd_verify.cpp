// pipecut verify OUTDIR: the split tree against the whole model, bit for bit.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/table.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/verify.h"

namespace pipecut::cli {

namespace {
struct VerifyArgs {
  std::string dir;
  int inputs = 2;
  uint64_t seed = 1;
  std::vector<std::string> images;
  std::string model;
  int threads = 1;
  bool json = false;
};
}  // namespace

void add_verify(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Check a split tree against the whole model, bit for bit; writes OUTDIR/verify.json");
  cmd->add_option("outdir", args->dir, "folder written by pipecut split")->required();
  cmd->add_option("--inputs", args->inputs, "random inputs")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--seed", args->seed, "seed of the first random input")->capture_default_str();
  cmd->add_option("--image", args->images,
                  "JPEG, PNG, BMP or raw .rgb pictures, each one more input");
  cmd->add_option("--model", args->model, "the source model (default: the path in meta.json)");
  cmd->add_option("--threads", args->threads, "CPU threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--json", args->json, "print the report as JSON");
  cmd->callback([args] {
    const SplitTree tree = read_split_tree(args->dir);
    VerifyOptions options;
    options.random_inputs = args->inputs;
    options.seed = args->seed;
    for (const auto& image : args->images) options.images.emplace_back(image);
    options.model = args->model;
    options.threads = args->threads;
    if (options.random_inputs + static_cast<int>(options.images.size()) == 0) {
      throw Error("verify: give at least one input (--inputs N or --image FILE)");
    }
    ProgressBar bar(!args->json);
    options.progress = bar.callback();
    const VerifyReport report = verify_split_tree(tree, options);
    bar.finish();
    const auto json = verify_report_json(report);
    write_file_atomic(tree.dir / "verify.json",
                      json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    if (args->json) {
      std::cout << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      Table table({"folder", "file", "tensors checked", "result"}, {false, false, true, false});
      for (const auto& f : report.files) {
        std::string result = "bit-exact";
        if (!f.ok()) {
          const auto& m = f.mismatches.front();
          result = "MISMATCH '" + m.tensor + "' (" + std::to_string(m.differing_bytes) +
                   " bytes, max " + std::to_string(m.max_abs_diff) + ")";
        }
        table.add({f.folder, f.file, std::to_string(f.tensors_checked), result});
      }
      table.print(std::cout);
      std::cout << report.files.size() << " files, " << report.inputs
                << " inputs: " << (report.ok() ? "all bit-exact" : "MISMATCH") << "; wrote "
                << (tree.dir / "verify.json").string() << "\n";
    }
    if (!report.ok()) throw Error(args->dir + ": " + report.first_mismatch());
  });
}

}  // namespace pipecut::cli
