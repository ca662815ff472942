#include "pipecut/error.h"
#include "pipecut/partition.h"

namespace pipecut {

const char* algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::kGreedy:
      return "greedy";
    case Algorithm::kOptimal:
      return "optimal";
    case Algorithm::kBalanced:
      return "balanced";
    case Algorithm::kLatency:
      return "latency";
    case Algorithm::kThroughput:
      return "throughput";
  }
  return "unknown";
}

Algorithm parse_algorithm(const std::string& name) {
  for (Algorithm a : {Algorithm::kGreedy, Algorithm::kOptimal, Algorithm::kBalanced,
                      Algorithm::kLatency, Algorithm::kThroughput}) {
    if (name == algorithm_name(a)) return a;
  }
  throw Error("unknown partition algorithm '" + name +
              "' (choose greedy, optimal, balanced, latency or throughput)");
}

Partition run_partition(const PartitionProblem& problem, Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kGreedy:
      return partition_greedy(problem);
    case Algorithm::kOptimal:
      return partition_optimal(problem);
    case Algorithm::kBalanced:
      return partition_balanced(problem);
    case Algorithm::kLatency:
    case Algorithm::kThroughput:
      break;
  }
  throw Error(std::string("the ") + algorithm_name(algorithm) +
              " objective needs a cost model (--target edgetpu)");
}

}  // namespace pipecut
