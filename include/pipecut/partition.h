#pragma once
// Choosing cuts under a size window. The partitioners see only prefix sizes at the candidate cuts,
// so they work the same for parameter bytes and file bytes and are tested on plain numbers.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace pipecut {

struct CutPoint {
  std::string name;            // for logs and errors
  int64_t prefix_size = 0;     // size of everything before the cut; non-decreasing along the list
  int64_t crossing_bytes = 0;  // activation bytes crossing the cut (optimal's last tie-break)
};

struct PartitionProblem {
  std::vector<CutPoint> cuts;  // candidate cuts in model order, strictly inside the model
  int64_t total_size = 0;      // the whole model; >= every prefix_size
  int64_t low = 0;             // LOW: smallest allowed segment
  int64_t high = 0;            // HIGH: largest allowed segment
  int segments = 0;            // K; 0 asks for the fewest feasible
  // Optional, size cuts.size() + 1: a label for the piece before cut 0, between cuts i-1 and i,
  // and after the last cut, used to name the piece that alone is larger than HIGH.
  std::vector<std::string> piece_labels;
};

// kLatency and kThroughput choose cuts for speed (partition_for_speed) rather than for size.
enum class Algorithm { kGreedy, kOptimal, kBalanced, kLatency, kThroughput };
const char* algorithm_name(Algorithm a);
Algorithm parse_algorithm(const std::string& name);  // throws pipecut::Error

struct Partition {
  Algorithm algorithm = Algorithm::kOptimal;
  std::vector<int> cuts;         // indices into PartitionProblem::cuts, ascending (K - 1 of them)
  std::vector<int64_t> sizes;    // the K segment sizes
  int64_t low = 0, high = 0;     // the window finally used (greedy's last resort may widen it)
  bool within_window = true;     // every size in [low, high] of the problem
  std::vector<std::string> log;  // what was chosen and why; every fallback taken
};

// The block-based greedy segmentation with its fallbacks (docs/split.md).
Partition partition_greedy(const PartitionProblem& problem);
// Fewest segments within the window; then the smallest largest segment; then the fewest crossing
// bytes. Exact. Throws pipecut::Error naming the piece larger than HIGH when nothing fits.
Partition partition_optimal(const PartitionProblem& problem);
// The Edge TPU compiler's baseline: cut before a segment would exceed total / K. Give it every op
// boundary as a cut. Never throws for an impossible window; within_window says how it went.
Partition partition_balanced(const PartitionProblem& problem);
// The size algorithms; kLatency and kThroughput need costs and throw pipecut::Error here.
Partition run_partition(const PartitionProblem& problem, Algorithm algorithm);

// What the speed objectives minimise, in milliseconds. A segment runs from cut `from` (-1: the
// model's start) to cut `to` (cuts.size(): the model's end).
struct SegmentCosts {
  std::function<double(int from, int to)> segment_ms;  // one run of the segment on its worker
  std::function<double(int cut)> handoff_ms;           // moving cut `cut`'s tensors between workers
};

// Exact, by dynamic programming over the cuts, every segment within [low, high]:
// kLatency minimises one input's time through the chain (segments plus hand-offs), over any
// number of segments unless problem.segments fixes it; kThroughput minimises the slowest stage
// (hand-off in, segment, hand-off out), with problem.segments segments or else the fewest that
// fit the window. Ties go to the fewer crossing bytes. Throws pipecut::Error naming the problem
// when no partition fits.
Partition partition_for_speed(const PartitionProblem& problem, const SegmentCosts& costs,
                              Algorithm objective);

}  // namespace pipecut
