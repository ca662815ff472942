#pragma once
// The partitioning options shared by `plan` and `split`.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "pipecut/planner.h"

namespace pipecut::cli {

struct SplitArgs {
  std::string max_size = "7MiB";
  std::string min_size = "0";
  int segments = 0;
  std::string cuts;
  std::string size_metric = "params";
  int max_cut_tensors = 1;
  std::string target = "edgetpu";
  std::string objective = "size";
  std::string link = "usb3";
};

void add_split_options(CLI::App& cmd, SplitArgs& args);
// Parsed and checked; `algorithm` is set by the caller.
SplitOptions to_split_options(const SplitArgs& args);
// The target's cost model for the speed objectives and the plan's timing (Edge TPU only so far);
// sets options.algorithm from --objective unless it is "size".
void attach_speed_model(SplitOptions& options, const SplitArgs& args, const Model& model);

}  // namespace pipecut::cli
