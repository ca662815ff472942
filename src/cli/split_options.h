#pragma once
// The partitioning options shared by `plan` and `split`.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "pipecut/planner.h"

namespace pipecut::cli {

struct SplitArgs {
  std::string max_size;  // "": 7 MiB; with CPU workers planned for speed, no size window
  std::string min_size = "0";
  int segments = 0;
  std::string cuts;
  std::string size_metric = "params";
  int max_cut_tensors = 1;
  std::string target;  // "": edgetpu (cpu for plan --granularity)
  std::string objective = "size";
  std::string link;           // "": usb3 for edgetpu, 1Gbit,0.3ms for cpu
  std::string costs;          // cpu: per-op times, the JSON of `run --profile --json`
  std::string mac_rate;       // cpu: per-op times from multiply-accumulates at this rate
  std::string worker_memory;  // cpu: largest worker (weights plus activation arena)
  int max_k = 16;             // cpu, throughput without --segments: the knee of K = 1..max_k
};

void add_split_options(CLI::App& cmd, SplitArgs& args);
// Fills in the defaults that depend on other options (target, link, window) and refuses options
// that do not go together. `granularity`: for plan --granularity, which plans CPU workers.
void resolve_split_args(SplitArgs& args, bool granularity = false);
// Parsed and checked; `algorithm` is set by the caller.
SplitOptions to_split_options(const SplitArgs& args);
// The target's cost model for the speed objectives and the plan's timing: the Edge TPU estimate,
// or with --target cpu and --costs or --mac-rate, CPU workers on a network (network_plan.h), with
// --worker-memory as their limit. Sets options.algorithm from --objective unless it is "size".
void attach_speed_model(SplitOptions& options, const SplitArgs& args, const Model& model);
// One line saying what the CPU workers' cost model assumes ("compute from ...; link ...; ...").
std::string network_target_text(const SplitArgs& args);

}  // namespace pipecut::cli
