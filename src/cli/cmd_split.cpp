// pipecut split MODEL -o OUTDIR: choose the cuts and write the segment tree.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/split_options.h"
#include "cli/table.h"
#include "pipecut/error.h"
#include "pipecut/json.h"
#include "pipecut/layout.h"
#include "pipecut/sizes.h"

namespace pipecut::cli {

namespace {

struct SplitCommandArgs {
  std::string model;
  std::string out_dir;
  std::string algorithm = "optimal";
  bool force = false;
  bool json = false;
  SplitArgs split;
};

void print_summary(const Model& model, const SplitPlan& plan, const TreeSummary& summary) {
  std::cout << model.origin() << ": " << plan.sizes.size() << " segments by " << plan.method << " ("
            << size_metric_name(plan.metric) << " window " << format_size(plan.partition.low)
            << " .. " << format_size(plan.partition.high) << ")\n";
  Table table({"file", "ops", "params", "file size", "inputs", "outputs"},
              {false, false, true, true, false, false});
  for (const auto& f : summary.files) {
    if (f.folder != "full_split") continue;
    auto names = [&](const std::vector<int>& list) {
      std::string out;
      for (int t : list) out += (out.empty() ? "" : ", ") + short_tensor_name(model.tensor(t).name);
      return out;
    };
    table.add({f.path, std::to_string(f.plan.first_op) + ".." + std::to_string(f.plan.last_op),
               format_size(f.plan.param_bytes), format_size(f.file_bytes), names(f.plan.inputs),
               names(f.plan.outputs)});
  }
  table.print(std::cout);
  if (!plan.partition.within_window) std::cout << "warning: some segments lie outside the window\n";
  std::cout << "wrote " << summary.files.size() << " files (" << format_size(summary.bytes_written);
  if (summary.bytes_linked > 0) {
    std::cout << ", of which " << format_size(summary.bytes_linked)
              << " as hard links to identical files";
  }
  std::cout << ") to " << summary.out_dir.string() << "\n";
}

}  // namespace

void add_split(CLI::App& app) {
  auto args = std::make_shared<SplitCommandArgs>();
  CLI::App* cmd = app.add_subcommand(
      "split", "Partition a model and write its segments and prefix/tail combinations");
  cmd->add_option("model", args->model, ".tflite file")->required();
  cmd->add_option("-o,--output", args->out_dir, "output folder")->required();
  cmd->add_option("--algorithm", args->algorithm, "greedy, optimal or balanced")
      ->capture_default_str()
      ->check(CLI::IsMember({"greedy", "optimal", "balanced"}));
  cmd->add_flag("--force", args->force, "replace an existing output folder");
  cmd->add_flag("--json", args->json, "print the written tree as JSON");
  add_split_options(*cmd, args->split);
  cmd->callback([args] {
    SplitOptions options = to_split_options(args->split);
    options.algorithm = parse_algorithm(args->algorithm);
    if (std::filesystem::exists(args->out_dir) && !args->force) {
      throw Error(args->out_dir + ": exists; pass --force to replace it");
    }
    ProgressBar bar(!args->json);
    const Model model = Model::load(args->model);
    const Graph graph(model);
    const SplitPlan plan = plan_split(model, graph, options);
    TreeOptions tree;
    tree.force = args->force;
    tree.progress = bar.callback();
    const TreeSummary summary = write_split_tree(model, graph, plan, args->out_dir, tree);
    bar.finish();
    if (args->json) {
      nlohmann::ordered_json files = nlohmann::ordered_json::array();
      for (const auto& f : summary.files) {
        files.push_back({{"path", f.path},
                         {"role", f.role},
                         {"segments", {f.first_segment, f.last_segment}},
                         {"param_bytes", f.plan.param_bytes},
                         {"file_bytes", f.file_bytes},
                         {"sha256", f.sha256}});
        if (!f.hard_link_of.empty()) files.back()["hard_link_of"] = f.hard_link_of;
      }
      std::cout << nlohmann::ordered_json{{"out_dir", summary.out_dir.string()},
                                          {"plan", plan_json(model, plan)},
                                          {"files", files}}
                       .dump(2)
                << "\n";
    } else {
      print_summary(model, plan, summary);
    }
  });
}

}  // namespace pipecut::cli
