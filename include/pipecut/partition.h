#pragma once
// Choosing cuts under a size window. The partitioners see only prefix sizes at the candidate cuts,
// so they work the same for parameter bytes and file bytes and are tested on plain numbers.
#include <cstdint>
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

enum class Algorithm { kGreedy, kOptimal, kBalanced };
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
Partition run_partition(const PartitionProblem& problem, Algorithm algorithm);

}  // namespace pipecut
