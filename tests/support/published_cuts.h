#pragma once
// The ResNet-101 segmentation our users publish: the block-based greedy at a 2..7 MiB window
// cuts the Keras ResNet-101 after these blocks. Header-only: the tests that include it link the
// planning layer themselves.
#include <string>
#include <vector>

#include "pipecut/analysis.h"
#include "pipecut/graph.h"
#include "pipecut/planner.h"

namespace pipecut::testing {

inline const std::vector<std::string> kResNet101PublishedCuts = {
    "conv4_block4_out",  "conv4_block10_out", "conv4_block16_out",
    "conv4_block22_out", "conv5_block1_out",  "conv5_block2_out"};

// The greedy plan of `model` at the published window, and the short names of its cut tensors.
inline SplitPlan resnet101_greedy_plan(const Model& model, const Graph& graph,
                                       std::vector<std::string>* cut_names) {
  SplitOptions options;
  options.high = 7 << 20;
  options.low = 2 << 20;
  options.algorithm = Algorithm::kGreedy;
  SplitPlan plan = plan_split(model, graph, options);
  cut_names->clear();
  for (const auto& tensors : plan.cut_tensors)
    cut_names->push_back(short_tensor_name(model.tensor(tensors.at(0)).name));
  return plan;
}

}  // namespace pipecut::testing
