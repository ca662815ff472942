// Native quantization: the time to calibrate a float ResNet-50 and ResNet-101 (imported from
// PyTorch's ONNX export, tests/support/torch_models.py, into $PIPECUT_ONNX_DIR) on 16 seeded
// inputs and write the INT8 model, per channel, with the defaults: what `pipecut quantize --random
// 16` does after loading (mse ranges: two passes; bias correction). The TensorFlow converter
// takes minutes for the same job.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "pipecut/inputs.h"
#include "pipecut/onnx_import.h"
#include "pipecut/quant.h"
#include "pipecut/runtime.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;
constexpr int kCalibrationInputs = 16;

void BM_QuantizeFloat(benchmark::State& state, const std::string& name) {
  const char* dir = std::getenv("PIPECUT_ONNX_DIR");
  const fs::path path = dir ? fs::path(dir) / (name + "_op13.onnx") : fs::path();
  if (path.empty() || !fs::exists(path)) {
    state.SkipWithError("set PIPECUT_ONNX_DIR to torch_models.py's export folder");
    return;
  }
  const Model model = Model::from_bytes(import_onnx(path, {}).tflite, name + ".tflite");
  const auto specs = load_cpu(model)->inputs();
  int64_t bytes = 0;
  for (auto _ : state) {
    const Ranges ranges = calibrate(model, kCalibrationInputs, [&](int i) {
      return random_inputs(specs, static_cast<uint64_t>(1 + i));
    });
    bytes = static_cast<int64_t>(quantize_model(model, ranges, {}).size());
  }
  state.counters["int8_MiB"] = static_cast<double>(bytes) / (1 << 20);
}
BENCHMARK_CAPTURE(BM_QuantizeFloat, resnet50, std::string("resnet50"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_QuantizeFloat, resnet101, std::string("resnet101"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace pipecut

BENCHMARK_MAIN();
