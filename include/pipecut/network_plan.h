#pragma once
// Planning a split for CPU workers on a network (`--target cpu` with a speed objective, and
// `plan --granularity`): what each op costs to compute, what a link costs to cross, what a worker
// must hold in memory, and the best split for every number of workers. See docs/plan.md.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "pipecut/graph.h"
#include "pipecut/model.h"
#include "pipecut/planner.h"

namespace pipecut {

// A link between two workers: a transfer of `bytes` takes latency_ms + bytes * 8 / bandwidth.
struct NetworkLink {
  double bits_per_second = 1e9;
  double latency_ms = 0.3;
  double transfer_ms(int64_t bytes) const;
  std::string text() const;  // "1 Gbit/s, 0.3 ms"
};
// "BANDWIDTH,LATENCY": bandwidth in bit, Kbit, Mbit, Gbit, Tbit (powers of 1000; "/s" or "ps"
// optional) or bytes per second (B, KB, MB, GB, KiB, MiB, GiB, with "/s"); latency in s, ms, us
// or ns ("1Gbit,0.3ms", "100Mbit,1ms", "125MB/s,50us"). Throws pipecut::Error naming `what`.
NetworkLink parse_network_link(const std::string& text, const std::string& what = "--link");

// "20GMAC/s", "500 MMAC/s", "2.5e10" (multiply-accumulates per second; K, M, G, T are powers of
// 1000). Throws pipecut::Error naming `what` for anything else or a rate that is not positive.
double parse_mac_rate(const std::string& text, const std::string& what = "--mac-rate");

// Milliseconds per op at `macs_per_second`: an op's multiply-accumulates (op_macs), or for an op
// without any (ADD, pooling, softmax) `macs_per_element` per output element; reshape-like ops
// cost nothing. `plan --mac-rate` counts one per element; `serve`'s weights count 60, what such
// ops of ResNet-101's int8 segments cost per element against a convolution's MAC.
std::vector<double> op_ms_from_macs(const Model& model, double macs_per_second,
                                    double macs_per_element = 1);

// Milliseconds per op measured on the target: the JSON `pipecut run MODEL --profile --json`
// prints (or its "profile" object alone). Ops the profile does not list (no kernel: RESHAPE) cost
// 0. Throws pipecut::Error "FILE: ..." when the file is unreadable, not such JSON, or profiles
// another model (op count, an op's index, type or output tensor name differs).
std::vector<double> read_op_costs(const std::filesystem::path& file, const Model& model);

// What a CPU worker holds to run ops first..last as a model of its own: their parameter bytes
// (each constant buffer once per model, as op_param_bytes counts) plus an estimate of the
// runtime's activation arena: the peak, over the segment's ops, of the activation bytes live at
// once (each tensor rounded up to 64 bytes; a tensor lives from the op that writes it, or the
// segment's start for its inputs, to its last reader, or the segment's end for its outputs). The
// runtime's greedy placement and its kernels' scratch buffers can add to that; docs/plan.md gives
// the measured gap. Queries for one `first` share a table built on the first query, O(ops); not
// safe to query from several threads at once.
class WorkerMemory {
 public:
  WorkerMemory(const Model& model, const Graph& graph);
  int64_t weight_bytes(int first, int last) const;
  int64_t arena_bytes(int first, int last) const;
  int64_t bytes(int first, int last) const {
    return weight_bytes(first, last) + arena_bytes(first, last);
  }

 private:
  struct Lifetime {
    int64_t bytes;
    int first, last;  // producer (-1: a model input) and last reader (INT_MAX: a model output)
  };
  std::vector<int64_t> weight_prefix_;  // [i]: parameter bytes of ops 0..i-1
  std::vector<Lifetime> lifetimes_;
  int ops_ = 0;
  mutable std::vector<std::vector<int64_t>> peak_;  // [first][last - first], built on demand
};

// The CPU target: per-op compute, the link between workers, and the memory each may use.
struct NetworkTarget {
  std::vector<double> op_ms;  // per op, from read_op_costs or op_ms_from_macs
  NetworkLink link;
  int64_t worker_memory = 0;  // bytes; 0: no limit
};

// The cost model of a pipeline of CPU workers: a stage receives its input over the link (the
// first stage receives the model's input from the client) and then computes its ops, so
// SpeedModel::segment_ms is transfer_ms(in_bytes) + the ops' milliseconds and handoff_ms is 0
// (the transfer already belongs to the receiving stage). Latency is then the sum of compute and
// transfers along the chain, and the slowest stage its compute plus receiving its input.
// memory_bytes is WorkerMemory::bytes, memory_limit the target's worker_memory. Keeps what it
// needs; `model` and `graph` may go away. Throws pipecut::Error when op_ms has the wrong length.
SpeedModel network_speed_model(const Model& model, const Graph& graph, const NetworkTarget& target);

// Per segment of `plan`: what its worker holds, SpeedModel::memory_bytes of its ops (0 without a
// memory model).
std::vector<int64_t> plan_worker_bytes(const Model& model, const SplitPlan& plan,
                                       const SpeedModel& speed);
// The largest of those (0 for a plan without segments or a model without a memory model).
int64_t largest_worker_bytes(const Model& model, const SplitPlan& plan, const SpeedModel& speed);

// The granularity trade-off: the best split for throughput with exactly K segments, for K = 1 up.
struct GranularityRow {
  int segments = 0;
  bool feasible = false;  // every worker within memory_limit; else the best split ignoring it
  SplitPlan plan;
  std::vector<int64_t> worker_bytes;  // per segment: SpeedModel::memory_bytes (0 without one)
  int64_t max_worker_bytes = 0;
  PlanTiming timing;       // bottleneck_ms: the slowest stage; latency_ms: one frame end to end
  int64_t wire_bytes = 0;  // bytes crossing the cuts between workers per frame
};
struct Granularity {
  std::vector<GranularityRow> rows;  // K = 1, 2, ... in order; K without any split is left out
  int usable_cuts = 0;
  int knee = -1;  // index into rows; -1 when no row is feasible
};
// Knee: the smallest K whose slowest stage is within kKneeTolerance of the best slowest stage of
// all feasible rows: beyond it, more workers buy less than 5 % of throughput.
constexpr double kKneeTolerance = 0.05;

// Rows for K = 1 .. min(max_k, usable cuts + 1), each planned by plan_split with the throughput
// objective and options.speed (which must have a cost model). Throws pipecut::Error when no K has
// any split, naming the model.
Granularity plan_granularity(const Model& model, const Graph& graph, const SplitOptions& options,
                             int max_k);

}  // namespace pipecut
