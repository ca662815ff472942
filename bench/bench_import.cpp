// ONNX import: the time to import torchvision's ResNet-50 (goal: under a second), and pipecut's
// float latency of the imported ResNet-18 (bench/run.sh times PyTorch's beside it). The models
// are exported by tests/support/torch_models.py into $PIPECUT_ONNX_DIR; without it the
// benchmarks say so and skip.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "pipecut/inputs.h"
#include "pipecut/onnx_import.h"
#include "pipecut/runtime.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;

fs::path onnx_model(const std::string& file) {
  const char* dir = std::getenv("PIPECUT_ONNX_DIR");
  return dir ? fs::path(dir) / file : fs::path();
}

void BM_ImportResNet50(benchmark::State& state) {
  const fs::path path = onnx_model("resnet50_op13.onnx");
  if (path.empty() || !fs::exists(path)) {
    state.SkipWithError("set PIPECUT_ONNX_DIR to torch_models.py's export folder");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(import_onnx(path, {}).tflite.size());
}
BENCHMARK(BM_ImportResNet50)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// Median and 90th percentile of single inferences, as torch_models.py time reports them.
void BM_ResNet18Float(benchmark::State& state) {
  const fs::path path = onnx_model("resnet18_op13.onnx");
  if (path.empty() || !fs::exists(path)) {
    state.SkipWithError("set PIPECUT_ONNX_DIR to torch_models.py's export folder");
    return;
  }
  const Model m = load_model_file(path);
  CpuOptions options;
  options.threads = static_cast<int>(state.range(0));
  auto exec = load_cpu(m, options);
  const auto inputs = random_inputs(exec->inputs(), 1);
  for (int i = 0; i < 3; ++i) exec->run(inputs);
  std::vector<double> ms;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(exec->run(inputs));
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  state.counters["median_ms"] = ms[ms.size() / 2];
  state.counters["p90_ms"] = ms[std::min(ms.size() - 1, ms.size() * 9 / 10)];
  state.counters["threads"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_ResNet18Float)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(30);

}  // namespace
}  // namespace pipecut

BENCHMARK_MAIN();
