#include <algorithm>
#include <chrono>
#include <thread>

#include "pipecut/error.h"
#include "pipecut/pipeline.h"
#include "pipeline/stage_cores.h"

namespace pipecut {
namespace {
// Bounds the timing of very fast stages when a minimum duration is asked for.
constexpr int kMaxRounds = 100000;
}  // namespace

std::vector<double> stage_latencies_alone(const std::vector<Executable*>& stages,
                                          const std::vector<std::vector<TensorValue>>& inputs,
                                          int rounds, double min_seconds) {
  if (inputs.size() != stages.size())
    throw Error("stage timing: one input set per stage is needed");
  if (rounds < 1) throw Error("stage timing: at least one round is needed");
  std::vector<std::vector<double>> times(stages.size());
  const auto begin = std::chrono::steady_clock::now();
  const auto enough = [&](int round) {
    if (round < rounds) return false;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    return elapsed >= min_seconds || round >= kMaxRounds;
  };
  for (int round = -1; !enough(round); ++round) {  // round -1 warms up
    for (size_t s = 0; s < stages.size(); ++s) {
      const auto start = std::chrono::steady_clock::now();
      stages[s]->run(inputs[s]);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (round >= 0) times[s].push_back(seconds);
    }
  }
  std::vector<double> medians;
  for (auto& t : times) {
    std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
    medians.push_back(t[t.size() / 2]);
  }
  return medians;
}

double ideal_throughput(const std::vector<double>& latencies, double cores, int threads_per_stage) {
  if (latencies.empty()) return 0;
  const double slowest = *std::max_element(latencies.begin(), latencies.end());
  double sum = 0;
  for (double l : latencies) sum += l;
  return std::min(1.0 / slowest, cores / (sum * std::max(1, threads_per_stage)));
}

double steady_throughput(size_t outputs, std::chrono::steady_clock::time_point first,
                         std::chrono::steady_clock::time_point last) {
  if (outputs < 2) return 0;
  const double seconds = std::chrono::duration<double>(last - first).count();
  return seconds > 0 ? static_cast<double>(outputs - 1) / seconds : 0;
}

double steady_throughput(const std::vector<std::chrono::steady_clock::time_point>& popped) {
  if (popped.empty()) return 0;
  return steady_throughput(popped.size(), popped.front(), popped.back());
}

int usable_cores() {
  const size_t allowed = pipeline_detail::allowed_cpus().size();
  if (allowed > 0) return static_cast<int>(allowed);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

bool stage_threads_outnumber_cores(size_t stages, int threads_per_stage, int cores) {
  return static_cast<double>(stages) * std::max(1, threads_per_stage) > cores;
}

}  // namespace pipecut
