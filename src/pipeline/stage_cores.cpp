#include "pipeline/stage_cores.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "pipecut/error.h"
#include "pipecut/pipeline.h"

namespace pipecut::pipeline_detail {

std::vector<std::vector<size_t>> cores_for_workers(const std::vector<double>& costs, size_t workers,
                                                   size_t cores) {
  cores = std::max<size_t>(1, cores);
  workers = std::max<size_t>(1, workers);
  std::vector<size_t> order(costs.size());
  std::iota(order.begin(), order.end(), 0);
  // Stable: equal costs keep stage order, so every process places them alike.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(cores, 0.0);
  std::vector<std::vector<size_t>> placed(costs.size());
  for (size_t stage : order) {
    const double share = costs[stage] / static_cast<double>(workers);
    std::vector<bool> taken(cores, false);  // by this stage's workers, in this round of cores
    for (size_t w = 0; w < workers; ++w) {
      if (w % cores == 0) std::fill(taken.begin(), taken.end(), false);
      size_t best = cores;
      for (size_t c = 0; c < cores; ++c)
        if (!taken[c] && (best == cores || load[c] < load[best])) best = c;
      taken[best] = true;
      load[best] += share;
      placed[stage].push_back(best);
    }
  }
  return placed;
}

std::vector<size_t> cores_for_costs(const std::vector<double>& costs, size_t cores) {
  std::vector<size_t> placed;
  for (const auto& stage : cores_for_workers(costs, 1, cores)) placed.push_back(stage.front());
  return placed;
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;  // empty where the kernel does not tell (a mask wider than cpu_set_t)
}

bool pin_thread_to_cpu(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

}  // namespace pipecut::pipeline_detail

namespace pipecut {

std::vector<int> stage_cpus(const std::vector<double>& costs) {
  for (size_t i = 0; i < costs.size(); ++i) {
    if (!(costs[i] > 0) || !std::isfinite(costs[i]))
      throw Error("stage CPUs: stage " + std::to_string(i) +
                  "'s cost is not a positive finite number");
  }
  const std::vector<int> cpus = pipeline_detail::allowed_cpus();
  if (cpus.empty()) return {};  // where the CPUs are unknown, nothing is pinned
  std::vector<int> out;
  for (size_t core : pipeline_detail::cores_for_costs(costs, cpus.size()))
    out.push_back(cpus[core]);
  return out;
}

}  // namespace pipecut
