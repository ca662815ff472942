// pipecut split MODEL -o OUTDIR: choose the cuts and write the segment tree.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/split_options.h"
#include "cli/table.h"
#include "pipecut/edgetpu_compiler.h"
#include "pipecut/edgetpu_estimate.h"
#include "pipecut/error.h"
#include "pipecut/json.h"
#include "pipecut/layout.h"
#include "pipecut/network_plan.h"
#include "pipecut/onnx_import.h"
#include "pipecut/sizes.h"

namespace pipecut::cli {

namespace {

struct SplitCommandArgs {
  std::string model;
  std::string out_dir;
  std::string algorithm = "optimal";
  bool force = false;
  bool json = false;
  bool compile = false;
  std::string compiler;
  int jobs = 2;
  SplitArgs split;
};

// With --target edgetpu: each full_split file's estimated on-chip / off-chip MiB, flagged when
// it would stream weights from the host on every inference.
std::map<std::string, std::string> tpu_cells(const TreeSummary& summary, const std::string& link) {
  std::map<std::string, std::string> cells;
  const EdgeTpuDevice device = edgetpu_device(link);
  for (const auto& f : summary.files) {
    if (f.folder != "full_split") continue;
    const auto e = estimate_edgetpu(Model::load(summary.out_dir / f.path), device);
    const auto mib = [](int64_t b) { return fixed(static_cast<double>(b) / (1024.0 * 1024.0), 2); };
    cells[f.path] = mib(e.on_chip_bytes) + " / " + mib(e.off_chip_bytes) +
                    (e.off_chip_bytes > 0 ? " STREAMS" : "");
  }
  return cells;
}

void print_summary(const Model& model, const SplitPlan& plan, const TreeSummary& summary,
                   const std::map<std::string, std::string>& tpu) {
  std::cout << model.origin() << ": " << plan.sizes.size() << " segments by " << plan.method << " ("
            << size_metric_name(plan.metric) << " window " << format_size(plan.partition.low)
            << " .. " << format_size(plan.partition.high) << ")\n";
  std::vector<std::string> header = {"file", "ops", "params", "file size", "inputs", "outputs"};
  if (!tpu.empty()) header.push_back("TPU on/off chip MiB (est.)");
  Table table(header, {false, false, true, true, false, false, false});
  for (const auto& f : summary.files) {
    if (f.folder != "full_split") continue;
    auto names = [&](const std::vector<int>& list) {
      std::string out;
      for (int t : list) out += (out.empty() ? "" : ", ") + short_tensor_name(model.tensor(t).name);
      return out;
    };
    std::vector<std::string> row = {
        f.path,
        std::to_string(f.plan.first_op) + ".." + std::to_string(f.plan.last_op),
        format_size(f.plan.param_bytes),
        format_size(f.file_bytes),
        names(f.plan.inputs),
        names(f.plan.outputs)};
    if (!tpu.empty()) row.push_back(tpu.at(f.path));
    table.add(row);
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

// With --target cpu and a cost model: the pipeline of CPU workers the plan makes, estimated.
std::string network_line(const Model& model, const SplitPlan& plan, const SpeedModel& speed,
                         const SplitArgs& args) {
  const PlanTiming t = time_plan(model, plan, speed);
  const int64_t largest = largest_worker_bytes(model, plan, speed);
  return "CPU workers (estimated): slowest stage " + fixed(t.bottleneck_ms, 2) + " ms (seg " +
         std::to_string(t.bottleneck_segment + 1) + "), latency " + fixed(t.latency_ms, 2) +
         " ms, largest worker " + format_size(largest) + "; " + network_target_text(args);
}

}  // namespace

void add_split(CLI::App& app) {
  auto args = std::make_shared<SplitCommandArgs>();
  CLI::App* cmd = app.add_subcommand(
      "split", "Partition a model and write its segments and prefix/tail combinations");
  cmd->add_option("model", args->model, ".tflite file, or .onnx (imported on the fly, see import)")
      ->required();
  cmd->add_option("-o,--output", args->out_dir, "output folder")->required();
  cmd->add_option("--algorithm", args->algorithm, "greedy, optimal or balanced")
      ->capture_default_str()
      ->check(CLI::IsMember({"greedy", "optimal", "balanced"}));
  cmd->add_flag("--force", args->force, "replace an existing output folder");
  cmd->add_flag("--json", args->json, "print the written tree as JSON");
  cmd->add_flag("--compile", args->compile,
                "then run edgetpu_compiler on every file (pipecut compile); without a compiler, "
                "record estimates instead (pipecut estimate)");
  cmd->add_option("--compiler", args->compiler, "with --compile: the compiler to run");
  cmd->add_option("-j,--jobs", args->jobs, "with --compile: compiler runs at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  add_split_options(*cmd, args->split);
  cmd->callback([args] {
    resolve_split_args(args->split);
    SplitOptions options = to_split_options(args->split);
    options.algorithm = parse_algorithm(args->algorithm);
    if (std::filesystem::exists(args->out_dir) && !args->force) {
      throw Error(args->out_dir + ": exists; pass --force to replace it");
    }
    ProgressBar bar(!args->json);
    const Model model = load_model_file(args->model);
    const Graph graph(model);
    attach_speed_model(options, args->split, model);
    const SplitPlan plan = plan_split(model, graph, options);
    TreeOptions tree;
    tree.force = args->force;
    tree.progress = bar.callback();
    const TreeSummary summary = write_split_tree(model, graph, plan, args->out_dir, tree);
    bar.finish();
    std::string compile_note;
    int compile_failures = 0;
    if (args->compile) {
      const SplitTree written = read_split_tree(summary.out_dir);
      std::filesystem::path compiler;
      try {
        compiler = find_edgetpu_compiler(args->compiler);
      } catch (const Error& e) {
        if (!args->compiler.empty()) throw;
        const std::string link = args->split.target == "edgetpu" ? args->split.link : "usb3";
        estimate_split_tree(written, edgetpu_device(link), link);
        compile_note =
            "edgetpu_compiler not found: recorded estimates (\"edgetpu_estimate\", "
            "marked estimated) in each meta.json instead";
      }
      if (!compiler.empty()) {
        CompileOptions compile;
        compile.compiler = compiler;
        compile.jobs = args->jobs;
        compile.progress = bar.callback();
        const auto result = compile_split_tree(written, compile);
        bar.finish();
        compile_failures = result.failed();
        compile_note = "compiled " + std::to_string(result.files.size() - compile_failures) +
                       " of " + std::to_string(result.files.size()) + " files with " +
                       compiler.string() + "; logs in each folder's tpu/";
      }
    }
    if (args->json) {
      nlohmann::ordered_json files = nlohmann::ordered_json::array();
      for (const auto& f : summary.files) {
        files.push_back({{"path", f.path},
                         {"role", f.role},
                         {"segments", {f.first_segment, f.last_segment}},
                         {"param_bytes", f.plan.param_bytes},
                         {"file_bytes", f.file_bytes},
                         {"hash", f.hash}});
        if (!f.hard_link_of.empty()) files.back()["hard_link_of"] = f.hard_link_of;
      }
      std::cout << nlohmann::ordered_json{{"out_dir", summary.out_dir.string()},
                                          {"plan", plan_json(model, plan)},
                                          {"files", files}}
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    } else {
      print_summary(model, plan, summary,
                    args->split.target == "edgetpu" ? tpu_cells(summary, args->split.link)
                                                    : std::map<std::string, std::string>{});
      if (args->split.target == "cpu" && options.speed.segment_ms)
        std::cout << network_line(model, plan, options.speed, args->split) << "\n";
      if (!compile_note.empty()) std::cout << compile_note << "\n";
    }
    if (compile_failures > 0) {
      throw Error(args->out_dir + ": " + std::to_string(compile_failures) +
                  " files did not compile (see meta.json and tpu/*_compile.txt)");
    }
  });
}

}  // namespace pipecut::cli
