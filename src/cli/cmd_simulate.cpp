// pipecut simulate TREE: each folder of a split tree as a pipeline of Edge TPUs, estimated.
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/table.h"
#include "pipecut/edgetpu_estimate.h"
#include "pipecut/edgetpu_simulate.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/split_tree.h"

namespace pipecut::cli {

namespace {

struct SimulateArgs {
  std::string path;
  std::string link = "usb3";
  int tpus = 0;
  int frames = 8;
  std::string svg;
  std::string folder = "full_split";
  bool json = false;
};

struct FolderRun {
  std::string folder;
  PipelineSimulation sim;
};

nlohmann::ordered_json simulation_json(const FolderRun& run) {
  nlohmann::ordered_json stages = nlohmann::ordered_json::array();
  for (const auto& s : run.sim.stages) {
    stages.push_back({{"file", s.name},
                      {"tpu", s.tpu + 1},
                      {"invoke_ms", s.invoke_ms},
                      {"handoff_ms", s.handoff_ms},
                      {"busy_ms", s.busy_ms},
                      {"boundary_bytes", s.boundary_bytes}});
  }
  return {{"folder", run.folder},
          {"source", "estimated"},
          {"tpus", run.sim.tpus},
          {"latency_ms", run.sim.latency_ms},
          {"period_ms", run.sim.period_ms},
          {"throughput_fps", run.sim.throughput_fps},
          {"host_hop_ms", run.sim.host_hop_ms},
          {"bottleneck", run.sim.stages[static_cast<size_t>(run.sim.bottleneck)].name},
          {"stages", stages}};
}

}  // namespace

void add_simulate(CLI::App& app) {
  auto args = std::make_shared<SimulateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Simulate each folder of a split tree as a pipeline of Edge TPUs (one file per TPU): "
      "single-input latency, throughput, bottleneck, timeline");
  cmd->add_option("path", args->path, "folder written by pipecut split, or one .tflite")
      ->required();
  cmd->add_option("--link", args->link,
                  "host link: usb3 (the calibration host), usb3-coral (Coral's benchmark host), "
                  "usb2 or pcie")
      ->capture_default_str()
      ->check(CLI::IsMember(edgetpu_link_names()));
  cmd->add_option("--tpus", args->tpus, "TPUs available (default: one per file)")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--frames", args->frames, "frames in the timeline")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--svg", args->svg, "write the timeline of --folder as SVG");
  cmd->add_option("--folder", args->folder, "folder whose timeline --svg draws")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "print the simulation as JSON");
  cmd->callback([args] {
    const EdgeTpuDevice device = edgetpu_device(args->link);
    SimulationOptions options;
    options.tpus = args->tpus;
    options.frames = args->frames;
    std::vector<FolderRun> runs;
    if (std::filesystem::is_directory(args->path)) {
      const SplitTree tree = read_split_tree(args->path);
      const auto estimates = estimate_split_tree(tree, device, args->link, false);
      size_t next = 0;  // in the tree's order
      for (const auto& folder : tree.folders) {
        std::vector<PipelineStageInput> stages;
        for (const auto& file : folder.files)
          stages.push_back({file.path.filename().string(), estimates.at(next++).estimate});
        runs.push_back({folder.name, simulate_pipeline(stages, device, options)});
      }
    } else {
      const Model model = Model::load(args->path);
      runs.push_back(
          {args->path, simulate_pipeline({{std::filesystem::path(args->path).filename().string(),
                                           estimate_edgetpu(model, device)}},
                                         device, options)});
      args->folder = args->path;
    }
    if (!args->svg.empty()) {
      const FolderRun* chosen = nullptr;
      for (const auto& run : runs)
        if (run.folder == args->folder) chosen = &run;
      if (!chosen) throw Error("--folder: '" + args->folder + "' is not a folder of " + args->path);
      write_file_atomic(args->svg, timeline_svg(chosen->sim, chosen->folder + " (" + args->link +
                                                                 ", estimated)"));
    }
    if (args->json) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const auto& run : runs) list.push_back(simulation_json(run));
      std::cout << nlohmann::ordered_json{{"path", args->path},
                                          {"link", args->link},
                                          {"folders", list}}
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
      return;
    }
    Table table({"folder", "files", "TPUs", "latency ms", "period ms", "frames/s", "bottleneck"},
                {false, true, true, true, true, true, false});
    for (const auto& run : runs) {
      const auto& b = run.sim.stages[static_cast<size_t>(run.sim.bottleneck)];
      table.add({run.folder, std::to_string(run.sim.stages.size()), std::to_string(run.sim.tpus),
                 fixed(run.sim.latency_ms, 2), fixed(run.sim.period_ms, 2),
                 fixed(run.sim.throughput_fps, 1), b.name});
    }
    table.print(std::cout);
    std::cout << "estimates on " << args->link
              << " (no TPU was used): the model and its errors are in docs/simulate.md";
    if (!args->svg.empty()) std::cout << "; timeline in " << args->svg;
    std::cout << "\n";
  });
}

}  // namespace pipecut::cli
