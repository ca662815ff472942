// Inference on a shared host: the zoo ResNet-50 with 1 thread and with one thread per core, on an
// idle machine and with a competing busy process on every core (started before and stopped after
// each measurement by the benchmark itself), side by side in one run. Every iteration is one
// inference, timed by hand; the counters give the median and the 90th percentile of those
// iterations, which bench/run.sh divides: N threads against 1, idle and loaded, and p90 against
// the median.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "pipecut/inputs.h"
#include "pipecut/runtime.h"
#include "pipecut/zoo.h"

namespace pipecut {
namespace {

// `count` child processes that spin until they are killed (and die with the benchmark).
class BusyProcesses {
 public:
  explicit BusyProcesses(int count) {
    for (int i = 0; i < count; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        volatile unsigned long spin = 0;
        for (;;) spin = spin + 1;
      }
      if (pid > 0) pids_.push_back(pid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let them take the cores
  }
  ~BusyProcesses() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }
  BusyProcesses(const BusyProcesses&) = delete;
  BusyProcesses& operator=(const BusyProcesses&) = delete;

 private:
  std::vector<pid_t> pids_;
};

int cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5)];
}

// range(0): threads (0 means one per core); range(1): 1 with a busy process on every core.
void BM_ResNet50Contention(benchmark::State& state) {
  static const Model model = Model::from_bytes(build_zoo_model("resnet50"), "resnet50");
  CpuOptions options;
  options.threads = state.range(0) == 0 ? cores() : static_cast<int>(state.range(0));
  auto exec = load_cpu(model, options);
  const auto inputs = random_inputs(exec->inputs(), 1);
  exec->run(inputs);  // warm-up: helpers started, caches filled
  BusyProcesses load(state.range(1) ? cores() : 0);
  std::vector<double> ms;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(exec->run(inputs));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.SetIterationTime(seconds);
    ms.push_back(seconds * 1e3);
  }
  state.counters["threads"] = options.threads;
  state.counters["median_ms"] = percentile(ms, 0.5);
  state.counters["p90_ms"] = percentile(ms, 0.9);
}
BENCHMARK(BM_ResNet50Contention)
    ->ArgNames({"threads", "busy"})
    ->Args({1, 0})
    ->Args({0, 0})
    ->Args({1, 1})
    ->Args({0, 1})
    ->Iterations(40)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pipecut

BENCHMARK_MAIN();
