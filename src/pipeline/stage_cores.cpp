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

std::vector<size_t> cores_for_costs(const std::vector<double>& costs, size_t cores) {
  cores = std::max<size_t>(1, cores);
  std::vector<size_t> order(costs.size());
  std::iota(order.begin(), order.end(), 0);
  // Stable: equal costs keep stage order, so every process places them alike.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(cores, 0.0);
  std::vector<size_t> placed(costs.size(), 0);
  for (size_t stage : order) {
    const size_t core =
        static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    placed[stage] = core;
    load[core] += costs[stage];
  }
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
