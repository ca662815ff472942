#pragma once
// `pipecut report`: one self-contained HTML page about a split tree, for people: the segments
// against the size window, each file's on-chip and off-chip parameters (the compiler's report
// where `pipecut compile` ran, else the estimate, labelled), the simulated TPU pipeline of every
// folder with the timeline of full_split, and each file's compile status and log. Inline SVG and
// CSS only: no scripts, nothing fetched from elsewhere.
#include <string>

#include "pipecut/split_tree.h"

namespace pipecut {

struct ReportOptions {
  std::string link = "usb3";  // the host link of the estimates and the simulation
  int frames = 6;             // frames in the timeline
};

// Reads every folder's meta.json and every file of the tree (each verified as a model). Throws
// pipecut::Error naming what it cannot read.
std::string tree_report_html(const SplitTree& tree, const ReportOptions& options = {});

}  // namespace pipecut
