#pragma once
// Simulating a pipeline of Edge TPUs: each model file a stage, frames flowing through them, with
// the latency model of edgetpu_estimate.h and a host hand-off between TPUs fitted on real
// 2-TPU pipelines (docs/simulate.md).
#include <string>
#include <vector>

#include "pipecut/edgetpu_estimate.h"
#include "pipecut/planner.h"

namespace pipecut {

struct PipelineStageInput {
  std::string name;          // shown in tables and the timeline ("seg1_int8.tflite")
  EdgeTpuEstimate estimate;  // the file on its own
};

struct SimulatedStage {
  std::string name;
  int tpu = 0;                 // 0-based TPU it runs on
  double invoke_ms = 0;        // one invoke of this file (estimate, plus cache reloads if shared)
  double handoff_ms = 0;       // handing its outputs to the next TPU through the host
  double busy_ms = 0;          // its TPU's time per frame for it: hop in, invoke, hop out
  int64_t boundary_bytes = 0;  // bytes it hands on
};

struct TimelineSpan {
  int frame = 0, stage = 0, tpu = 0;
  double start_ms = 0, end_ms = 0;  // the invoke; the hand-off follows it
};

struct PipelineSimulation {
  std::vector<SimulatedStage> stages;
  int tpus = 0;
  double host_hop_ms = 0;  // handing a frame in, and again the result out (options.host_hop_ms)
  double latency_ms = 0;   // one input alone through every stage
  double period_ms = 0;    // time per frame in a long stream (1000 / throughput)
  double throughput_fps = 0;
  int bottleneck = 0;                  // the stage that sets the period
  std::vector<TimelineSpan> timeline;  // the first `frames` frames streamed back to back
};

struct SimulationOptions {
  int tpus = 0;    // 0: one TPU per stage; fewer: consecutive stages share a TPU
  int frames = 8;  // frames in the timeline
  // Host hand-off between two TPUs: fixed plus per MiB of the tensors handed on.
  double handoff_ms = 0.18;
  double handoff_ms_per_mib = 12.0;
  // The host's fixed cost of handing a frame to the first TPU and taking the result from the
  // last (one queue hop each; the transfers themselves are in the invoke's estimate).
  double host_hop_ms = 0.18;
};

// Stages run in order, each on its TPU; a TPU serving several stages runs them one after
// another and, as the compiler's docs warn for models not co-compiled, reloads each one's cached
// parameters on every switch. Throws pipecut::Error for no stages or options out of range.
PipelineSimulation simulate_pipeline(const std::vector<PipelineStageInput>& stages,
                                     const EdgeTpuDevice& device, const SimulationOptions& options);

// The cost model `split --objective latency|throughput --target edgetpu` plans with: any op
// range of `model` as a file of its own on one TPU (the estimate's caching and latency), and the
// host hand-off of `options`. Keeps a copy of what it needs; `model` may go away.
SpeedModel edgetpu_speed_model(const Model& model, const EdgeTpuDevice& device,
                               const SimulationOptions& options = {});

// An SVG timeline: one lane per TPU, one box per invoke, coloured by frame.
std::string timeline_svg(const PipelineSimulation& simulation, const std::string& title);

}  // namespace pipecut
