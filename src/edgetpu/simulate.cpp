// A discrete-event run of a TPU pipeline: stage s of frame f starts when frame f left stage s-1
// and stage s's TPU is free, after the hand-off of the tensors between them through the host,
// which holds both stages' workers; this is what the measured 2-TPU pipelines show
// (docs/simulate.md).
#include <algorithm>
#include <memory>
#include <numeric>

#include "edgetpu/estimate_internal.h"
#include "pipecut/edgetpu_simulate.h"
#include "pipecut/error.h"

namespace pipecut {

namespace {

// Consecutive stages onto `tpus` TPUs so that the busiest TPU has the least work (exact,
// by dynamic programming over split points).
std::vector<int> assign_tpus(const std::vector<double>& work, int tpus) {
  const int n = static_cast<int>(work.size());
  std::vector<double> prefix(static_cast<size_t>(n) + 1, 0);
  for (int i = 0; i < n; ++i)
    prefix[static_cast<size_t>(i) + 1] =
        prefix[static_cast<size_t>(i)] + work[static_cast<size_t>(i)];
  const double inf = 1e300;
  // best[k][i]: least max load putting the first i stages on k TPUs.
  std::vector<std::vector<double>> best(static_cast<size_t>(tpus) + 1,
                                        std::vector<double>(static_cast<size_t>(n) + 1, inf));
  std::vector<std::vector<int>> from(best.size(), std::vector<int>(static_cast<size_t>(n) + 1, 0));
  best[0][0] = 0;
  for (int k = 1; k <= tpus; ++k) {
    for (int i = 1; i <= n; ++i) {
      for (int j = k - 1; j < i; ++j) {
        const double load =
            std::max(best[static_cast<size_t>(k) - 1][static_cast<size_t>(j)],
                     prefix[static_cast<size_t>(i)] - prefix[static_cast<size_t>(j)]);
        if (load < best[static_cast<size_t>(k)][static_cast<size_t>(i)]) {
          best[static_cast<size_t>(k)][static_cast<size_t>(i)] = load;
          from[static_cast<size_t>(k)][static_cast<size_t>(i)] = j;
        }
      }
    }
  }
  std::vector<int> tpu_of(static_cast<size_t>(n), 0);
  int i = n;
  for (int k = tpus; k >= 1; --k) {
    const int j = from[static_cast<size_t>(k)][static_cast<size_t>(i)];
    for (int s = j; s < i; ++s) tpu_of[static_cast<size_t>(s)] = k - 1;
    i = j;
  }
  return tpu_of;
}

}  // namespace

PipelineSimulation simulate_pipeline(const std::vector<PipelineStageInput>& inputs,
                                     const EdgeTpuDevice& device,
                                     const SimulationOptions& options) {
  if (inputs.empty()) throw Error("simulate: no stages");
  if (options.tpus < 0 || options.frames < 1 || options.frames > 10000)
    throw Error("simulate: --tpus must be at least 0 and --frames between 1 and 10000");
  if (options.handoff_ms < 0 || options.handoff_ms_per_mib < 0 || options.host_hop_ms < 0)
    throw Error("simulate: host costs must not be negative");
  const int n = static_cast<int>(inputs.size());
  PipelineSimulation sim;
  sim.tpus = options.tpus == 0 ? n : std::min(options.tpus, n);

  std::vector<double> work;
  for (int s = 0; s < n; ++s) {
    const auto& e = inputs[static_cast<size_t>(s)].estimate;
    SimulatedStage stage;
    stage.name = inputs[static_cast<size_t>(s)].name;
    stage.invoke_ms = e.latency.total();
    if (s + 1 < n) {
      stage.boundary_bytes = e.output_bytes;
      stage.handoff_ms = options.handoff_ms +
                         static_cast<double>(e.output_bytes) / kMiB * options.handoff_ms_per_mib;
    }
    work.push_back(stage.invoke_ms + stage.handoff_ms);
    sim.stages.push_back(stage);
  }
  const std::vector<int> tpu_of = assign_tpus(work, sim.tpus);
  std::vector<int> stages_on(static_cast<size_t>(sim.tpus), 0);
  for (int s = 0; s < n; ++s) ++stages_on[static_cast<size_t>(tpu_of[static_cast<size_t>(s)])];
  for (int s = 0; s < n; ++s) {
    auto& stage = sim.stages[static_cast<size_t>(s)];
    stage.tpu = tpu_of[static_cast<size_t>(s)];
    // Models that share a TPU without being co-compiled evict each other's cached parameters.
    if (stages_on[static_cast<size_t>(stage.tpu)] > 1) {
      stage.invoke_ms +=
          static_cast<double>(inputs[static_cast<size_t>(s)].estimate.on_chip_bytes) / kMiB *
          device.stream_ms_per_mib;
    }
  }

  // One input alone: handed in, through every stage and hand-off, handed back.
  sim.host_hop_ms = options.host_hop_ms;
  sim.latency_ms = 2 * options.host_hop_ms;
  for (const auto& stage : sim.stages) sim.latency_ms += stage.invoke_ms + stage.handoff_ms;

  // A stream: a hand-off through the host keeps both the sending and the receiving stage's
  // worker busy, so each TPU's busy time per frame is its invokes plus the hand-offs on both
  // sides of its stages; the busiest TPU sets the period.
  std::vector<double> busy(static_cast<size_t>(sim.tpus), 0);
  std::vector<double> stage_busy(static_cast<size_t>(n), 0);
  for (int s = 0; s < n; ++s) {
    const auto& stage = sim.stages[static_cast<size_t>(s)];
    const double in =
        s > 0 ? sim.stages[static_cast<size_t>(s) - 1].handoff_ms : options.host_hop_ms;
    const double out = s + 1 < n ? stage.handoff_ms : options.host_hop_ms;
    stage_busy[static_cast<size_t>(s)] = in + stage.invoke_ms + out;
    busy[static_cast<size_t>(stage.tpu)] += stage_busy[static_cast<size_t>(s)];
  }
  const auto slowest = std::max_element(busy.begin(), busy.end());
  sim.period_ms = *slowest;
  sim.throughput_fps = sim.period_ms > 0 ? 1000.0 / sim.period_ms : 0;
  const int slow_tpu = static_cast<int>(slowest - busy.begin());
  double most = -1;
  for (int s = 0; s < n; ++s) {
    if (sim.stages[static_cast<size_t>(s)].tpu == slow_tpu &&
        stage_busy[static_cast<size_t>(s)] > most) {
      most = stage_busy[static_cast<size_t>(s)];
      sim.bottleneck = s;
    }
  }

  // The timeline: frames queued at the start, each taken as soon as its TPU is free.
  std::vector<double> free_at(static_cast<size_t>(sim.tpus), 0);
  for (int f = 0; f < options.frames; ++f) {
    double previous_end = 0;
    for (int s = 0; s < n; ++s) {
      const auto& stage = sim.stages[static_cast<size_t>(s)];
      double start = std::max(previous_end, free_at[static_cast<size_t>(stage.tpu)]);
      if (s > 0) {  // the hand-off from the previous stage holds both workers
        const auto& from = sim.stages[static_cast<size_t>(s) - 1];
        start += from.handoff_ms;
        double& sender = free_at[static_cast<size_t>(from.tpu)];
        sender = std::max(sender, start);
      } else {
        start += options.host_hop_ms;
      }
      const double end = start + stage.invoke_ms;
      sim.timeline.push_back({f, s, stage.tpu, start, end});
      // The last stage's worker is busy until it has handed the result back.
      free_at[static_cast<size_t>(stage.tpu)] = s + 1 < n ? end : end + options.host_hop_ms;
      previous_end = end;
    }
  }
  return sim;
}

}  // namespace pipecut

namespace pipecut {

SpeedModel edgetpu_speed_model(const Model& model, const EdgeTpuDevice& device,
                               const SimulationOptions& options) {
  auto costs = std::make_shared<std::vector<OpCost>>();
  for (const auto& op : map_ops(model)) costs->push_back(op_cost(op));
  const int last_op = static_cast<int>(costs->size()) - 1;
  SpeedModel speed;
  speed.segment_ms = [costs, device, options, last_op](int first, int last, int64_t in,
                                                       int64_t out) {
    // The first and last stages also take the frame from the host and give the result back,
    // as simulate_pipeline counts them.
    const double host =
        (first == 0 ? options.host_hop_ms : 0) + (last == last_op ? options.host_hop_ms : 0);
    // The ops as a file of their own: the one-subgraph rule applies from `first` on.
    std::vector<OpCost> segment(costs->begin() + first, costs->begin() + last + 1);
    std::vector<bool> supported;
    for (const auto& op : segment) supported.push_back(op.on_tpu);
    const std::vector<bool> mapped = one_subgraph(supported);
    for (size_t i = 0; i < segment.size(); ++i) segment[i].on_tpu = mapped[i];
    return host + time_segment(segment, in, out, device).latency.total();
  };
  speed.handoff_ms = [options](int64_t bytes) {
    return options.handoff_ms + static_cast<double>(bytes) / kMiB * options.handoff_ms_per_mib;
  };
  return speed;
}

}  // namespace pipecut
