// The CPU interpreter: single-inference latency of the zoo ResNet-50 and ResNet-101 and the two
// real MobileNetV2 models with 1 and 2 threads, with the effective rate (2 x MACs / time) as the
// GOPS counter; and the ResNet-101 7-segment pipeline's throughput against the achievable ideal.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "pipecut/analysis.h"
#include "pipecut/inputs.h"
#include "pipecut/layout.h"
#include "pipecut/pipeline.h"
#include "pipecut/runtime.h"
#include "pipecut/zoo.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;

const Model& model(const std::string& name) {
  static std::map<std::string, Model> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  if (name.find(".tflite") != std::string::npos) {
    return cache
        .emplace(name, Model::load(fs::path(PIPECUT_SHARED_DIR) / "models" / "coral" / name))
        .first->second;
  }
  return cache.emplace(name, Model::from_bytes(build_zoo_model(name), name)).first->second;
}

void BM_Inference(benchmark::State& state, const std::string& name) {
  const Model& m = model(name);
  CpuOptions options;
  options.threads = static_cast<int>(state.range(0));
  auto exec = load_cpu(m, options);
  const auto inputs = random_inputs(exec->inputs(), 1);
  exec->run(inputs);
  for (auto _ : state) benchmark::DoNotOptimize(exec->run(inputs));
  int64_t macs = 0;
  for (int64_t x : op_macs(m)) macs += x;
  state.counters["GOPS"] = benchmark::Counter(2.0 * static_cast<double>(macs) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GOPS_per_thread"] = benchmark::Counter(
      2.0 * static_cast<double>(macs) * 1e-9 / static_cast<double>(state.range(0)),
      benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_CAPTURE(BM_Inference, resnet50, std::string("resnet50"))
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Inference, resnet101, std::string("resnet101"))
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Inference, mobilenet_v2_quant,
                  std::string("mobilenet_v2_1.0_224_quant.tflite"))
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Inference, tf2_mobilenet_v2_ptq,
                  std::string("tf2_mobilenet_v2_1.0_224_ptq.tflite"))
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The ResNet-101 split at 7 MiB / 2 MiB (7 segments), serialized once per run of the program.
const std::vector<Model>& resnet101_segments() {
  static const std::vector<Model> files = [] {
    const Model& m = model("resnet101");
    const Graph g(m);
    SplitOptions split;
    split.high = 7 << 20;
    split.low = 2 << 20;
    const SplitPlan plan = plan_split(m, g, split);
    std::vector<Model> out;
    for (const auto& seg : plan_segments(m, g, plan.cut_positions))
      out.push_back(Model::from_bytes(write_segment(m, seg), "segment"));
    return out;
  }();
  return files;
}

// The pipeline and the cascade streams are run alike, so that bench/run.sh can divide one by the
// other: 300 frames in one timed iteration, the median of 5 repetitions, in wall time.
void frames_run(benchmark::internal::Benchmark* b) {
  b->Arg(300)
      ->Iterations(1)
      ->Repetitions(5)
      ->ReportAggregatesOnly(true)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

// Frames through the 7-stage ResNet-101 pipeline (7 MiB, 2 MiB window); the counters give the
// throughput over the whole run (fps) and once the pipeline is full (steady_fps, first to last
// output), the ideal (min of 1 / slowest stage and cores / sum of stages, stages timed alone)
// and the ratio of the steady rate to the ideal, as `pipecut pipeline` reports it. Each iteration
// times the stages alone for a second right before its pipeline run on fresh executables, so both
// figures of a ratio come from the same spell of a shared machine; run.sh repeats it and reports
// the median.
void BM_PipelineResNet101(benchmark::State& state) {
  const std::vector<Model>& files = resnet101_segments();
  const int frames = static_cast<int>(state.range(0));
  const int cores = usable_cores();
  double seconds = 0;
  double ideal_sum = 0, steady_sum = 0;
  std::vector<std::chrono::steady_clock::time_point> popped;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<std::unique_ptr<Executable>> stages;
    std::vector<Executable*> raw;
    std::vector<std::vector<TensorValue>> stage_inputs;
    for (const auto& f : files) {
      stages.push_back(load_cpu(f));
      raw.push_back(stages.back().get());
      stage_inputs.push_back(random_inputs(stages.back()->inputs(), 3));
    }
    const std::vector<double> alone = stage_latencies_alone(raw, stage_inputs, 15, 1.0);
    ideal_sum += ideal_throughput(alone, cores);
    PipelineOptions options;  // weighted as `pipecut pipeline` does by default
    if (stage_threads_outnumber_cores(raw.size(), 1, cores)) options.stage_costs = alone;
    Pipeline pipeline(std::move(stages), options);
    std::vector<std::vector<TensorValue>> batch;
    for (int i = 0; i < frames; ++i)
      batch.push_back(random_inputs(pipeline.inputs(), static_cast<uint64_t>(i % 4)));
    state.ResumeTiming();
    const auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(run_pipeline(pipeline, std::move(batch), &popped));
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    steady_sum += steady_throughput(popped);
  }
  const double iterations = static_cast<double>(state.iterations());
  const double fps = static_cast<double>(frames) * iterations / seconds;
  const double ideal = ideal_sum / iterations;
  const double steady = steady_sum / iterations;
  state.counters["fps"] = fps;
  state.counters["steady_fps"] = steady;
  state.counters["ideal_fps"] = ideal;
  state.counters["ratio"] = steady / ideal;
}
BENCHMARK(BM_PipelineResNet101)->Apply(frames_run);

// What the machine gives without a pipeline: one thread per core, each running the 7 segments one
// after another on its own executables, frames split evenly. The two cores share caches and memory
// bandwidth here just as in the pipeline, which the single-core ideal does not account for; so
// this figure tells the pipeline's own overhead apart from the cost of running two cores at once.
void BM_CascadeStreamsResNet101(benchmark::State& state) {
  const std::vector<Model>& files = resnet101_segments();
  const int cores = usable_cores();
  const int frames_per_stream = static_cast<int>(state.range(0)) / cores;
  std::vector<std::vector<std::unique_ptr<Executable>>> streams(static_cast<size_t>(cores));
  for (auto& stream : streams)
    for (const auto& f : files) stream.push_back(load_cpu(f));
  const auto input = random_inputs(streams[0][0]->inputs(), 3);
  double seconds = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (auto& stream : streams) {
      threads.emplace_back([&stream, &input, frames_per_stream] {
        for (int i = 0; i < frames_per_stream; ++i) {
          std::vector<TensorValue> values = input;
          for (auto& segment : stream) values = segment->run(values);
          benchmark::DoNotOptimize(values);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  state.counters["fps"] = static_cast<double>(frames_per_stream) * cores *
                          static_cast<double>(state.iterations()) / seconds;
}
BENCHMARK(BM_CascadeStreamsResNet101)->Apply(frames_run);

}  // namespace
}  // namespace pipecut

BENCHMARK_MAIN();
