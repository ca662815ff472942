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

// Consecutive stages onto `tpus` TPUs so that the busiest TPU has the least work per frame,
// exactly (dynamic programming over split points), with `load(j, i)` the work of stages j..i-1 on
// one TPU.
template <typename Load>
std::vector<int> assign_tpus(int n, int tpus, const Load& load) {
  const double inf = 1e300;
  // best[k][i]: least max load putting the first i stages on k TPUs.
  std::vector<std::vector<double>> best(static_cast<size_t>(tpus) + 1,
                                        std::vector<double>(static_cast<size_t>(n) + 1, inf));
  std::vector<std::vector<int>> from(best.size(), std::vector<int>(static_cast<size_t>(n) + 1, 0));
  best[0][0] = 0;
  for (int k = 1; k <= tpus; ++k) {
    for (int i = 1; i <= n; ++i) {
      for (int j = k - 1; j < i; ++j) {
        const double worst =
            std::max(best[static_cast<size_t>(k) - 1][static_cast<size_t>(j)], load(j, i));
        if (worst < best[static_cast<size_t>(k)][static_cast<size_t>(i)]) {
          best[static_cast<size_t>(k)][static_cast<size_t>(i)] = worst;
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

  std::vector<double> reload;  // reloading a file's cached parameters when its TPU is shared
  std::vector<double> alone;   // an invoke on a TPU of its own
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
    reload.push_back(static_cast<double>(e.on_chip_bytes) / kMiB * device.stream_ms_per_mib);
    alone.push_back(stage.invoke_ms);
    sim.stages.push_back(stage);
  }
  // A hop through the host holds both the sending and the receiving worker: stages j..i-1 on one
  // TPU keep it busy per frame for the hop in, their invokes (each reloading its parameters when
  // the TPU serves several files not co-compiled), the hand-offs between them (once: both ends
  // are this TPU) and the hop out.
  const auto hop_in = [&](int s) {
    return s == 0 ? options.host_hop_ms : sim.stages[static_cast<size_t>(s) - 1].handoff_ms;
  };
  const auto hop_out = [&](int s) {
    return s + 1 == n ? options.host_hop_ms : sim.stages[static_cast<size_t>(s)].handoff_ms;
  };
  const auto load = [&](int j, int i) {
    double ms = hop_in(j) + hop_out(i - 1);
    for (int s = j; s < i; ++s) {
      ms += alone[static_cast<size_t>(s)] + (i - j > 1 ? reload[static_cast<size_t>(s)] : 0);
      if (s + 1 < i) ms += sim.stages[static_cast<size_t>(s)].handoff_ms;
    }
    return ms;
  };
  const std::vector<int> tpu_of = assign_tpus(n, sim.tpus, load);
  std::vector<int> first_on(static_cast<size_t>(sim.tpus), n),
      last_on(static_cast<size_t>(sim.tpus), -1);
  for (int s = 0; s < n; ++s) {
    const size_t t = static_cast<size_t>(tpu_of[static_cast<size_t>(s)]);
    first_on[t] = std::min(first_on[t], s);
    last_on[t] = std::max(last_on[t], s);
  }
  for (int s = 0; s < n; ++s) {
    auto& stage = sim.stages[static_cast<size_t>(s)];
    stage.tpu = tpu_of[static_cast<size_t>(s)];
    // Models that share a TPU without being co-compiled evict each other's cached parameters.
    if (first_on[static_cast<size_t>(stage.tpu)] != last_on[static_cast<size_t>(stage.tpu)])
      stage.invoke_ms += reload[static_cast<size_t>(s)];
    stage.busy_ms = hop_in(s) + stage.invoke_ms + hop_out(s);
  }

  // One input alone: handed in, through every stage and hand-off, handed back.
  sim.host_hop_ms = options.host_hop_ms;
  sim.latency_ms = 2 * options.host_hop_ms;
  for (const auto& stage : sim.stages) sim.latency_ms += stage.invoke_ms + stage.handoff_ms;

  // A stream: the busiest TPU sets the period; its busiest stage is the bottleneck.
  int slow_tpu = 0;
  for (int t = 0; t < sim.tpus; ++t) {
    const double busy = load(first_on[static_cast<size_t>(t)], last_on[static_cast<size_t>(t)] + 1);
    if (busy > sim.period_ms) {
      sim.period_ms = busy;
      slow_tpu = t;
    }
  }
  sim.throughput_fps = sim.period_ms > 0 ? 1000.0 / sim.period_ms : 0;
  double most = -1;
  for (int s = 0; s < n; ++s) {
    const auto& stage = sim.stages[static_cast<size_t>(s)];
    if (stage.tpu == slow_tpu && stage.busy_ms > most) {
      most = stage.busy_ms;
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
