// The cost model of a pipeline of CPU workers on a network: a stage receives its input over the
// link, then computes its ops; segments over the worker memory are infeasible.
#include <memory>

#include "pipecut/error.h"
#include "pipecut/network_plan.h"

namespace pipecut {

SpeedModel network_speed_model(const Model& model, const Graph& graph,
                               const NetworkTarget& target) {
  if (target.op_ms.size() != model.ops().size()) {
    throw Error(model.origin() + ": the op costs have " + std::to_string(target.op_ms.size()) +
                " entries for " + std::to_string(model.ops().size()) + " ops");
  }
  auto prefix = std::make_shared<std::vector<double>>(target.op_ms.size() + 1, 0.0);
  for (size_t i = 0; i < target.op_ms.size(); ++i)
    (*prefix)[i + 1] = (*prefix)[i] + target.op_ms[i];
  auto memory = std::make_shared<const WorkerMemory>(model, graph);
  const NetworkLink link = target.link;
  SpeedModel speed;
  speed.segment_ms = [prefix, link](int first, int last, int64_t in_bytes, int64_t) {
    return link.transfer_ms(in_bytes) +
           ((*prefix)[static_cast<size_t>(last) + 1] - (*prefix)[static_cast<size_t>(first)]);
  };
  speed.handoff_ms = [](int64_t) { return 0.0; };
  speed.memory_bytes = [memory](int first, int last) { return memory->bytes(first, last); };
  speed.memory_limit = target.worker_memory;
  return speed;
}

}  // namespace pipecut
