#include "pipecut/error.h"
#include "pipecut/planner.h"

namespace pipecut {

PlanTiming time_plan(const Model& model, const SplitPlan& plan, const SpeedModel& speed) {
  if (!speed.segment_ms || !speed.handoff_ms) throw Error("time_plan: no cost model");
  const auto bytes_of = [&](const std::vector<int>& tensors) {
    int64_t bytes = 0;
    for (int t : tensors) bytes += model.tensor(t).byte_size();
    return bytes;
  };
  int64_t model_in = 0, model_out = 0;
  for (int t : model.inputs()) model_in += model.tensor(t).byte_size();
  for (int t : model.outputs()) model_out += model.tensor(t).byte_size();
  PlanTiming timing;
  const size_t segments = plan.cut_positions.size() + 1;
  for (size_t i = 0; i < segments; ++i) {
    const bool first = i == 0, last = i + 1 == segments;
    const int first_op = first ? 0 : plan.cut_positions[i - 1] + 1;
    const int last_op = last ? static_cast<int>(model.ops().size()) - 1 : plan.cut_positions[i];
    const int64_t in = first ? model_in : bytes_of(plan.cut_tensors[i - 1]);
    const int64_t out = last ? model_out : bytes_of(plan.cut_tensors[i]);
    const double hand_in = first ? 0 : speed.handoff_ms(in);
    const double hand_out = last ? 0 : speed.handoff_ms(out);
    const double ms = speed.segment_ms(first_op, last_op, in, out);
    timing.latency_ms += ms + hand_out;
    if (hand_in + ms + hand_out > timing.bottleneck_ms) {
      timing.bottleneck_ms = hand_in + ms + hand_out;
      timing.bottleneck_segment = static_cast<int>(i);
    }
  }
  return timing;
}

}  // namespace pipecut
