#include "pipecut/graph.h"

namespace pipecut {

Graph::Graph(const Model& model)
    : producer(model.tensors().size(), -1),
      consumers(model.tensors().size()),
      is_input(model.tensors().size(), false),
      is_output(model.tensors().size(), false) {
  for (const Op& op : model.ops()) {
    for (int t : op.outputs) producer[static_cast<size_t>(t)] = op.index;
    for (int t : op.inputs) {
      if (t < 0) continue;
      auto& list = consumers[static_cast<size_t>(t)];
      if (list.empty() || list.back() != op.index) list.push_back(op.index);
    }
  }
  for (int t : model.inputs()) is_input[static_cast<size_t>(t)] = true;
  for (int t : model.outputs()) is_output[static_cast<size_t>(t)] = true;
}

}  // namespace pipecut
