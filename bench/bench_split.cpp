// Split ResNet-101 and write the whole tree, beside the time to copy the same number of bytes
// into the same number of files on the same disk; plus the pieces (load, candidates, optimal on
// 10,000 cuts). bench/run.sh prints the ratios.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "pipecut/edgetpu_estimate.h"
#include "pipecut/edgetpu_simulate.h"
#include "pipecut/files.h"
#include "pipecut/layout.h"
#include "pipecut/partition.h"
#include "pipecut/zoo.h"

namespace pipecut {
namespace {

namespace fs = std::filesystem;

fs::path scratch() {
  const char* dir = std::getenv("PIPECUT_BENCH_DIR");
  const fs::path path =
      fs::path(dir ? dir : "bench-scratch") / ("run-" + std::to_string(::getpid()));
  fs::create_directories(path);
  return path;
}

const std::vector<uint8_t>& resnet101() {
  static const std::vector<uint8_t> bytes = build_zoo_model("resnet101");
  return bytes;
}

// The same model as a file, which split maps as `pipecut split` does (no copy of its bytes).
const fs::path& resnet101_file() {
  static const fs::path path = [] {
    const fs::path p = scratch() / "resnet101.tflite";
    write_file_atomic(p, std::span<const uint8_t>(resnet101()));
    return p;
  }();
  return path;
}

SplitOptions seven_mib() {
  SplitOptions o;
  o.high = 7 << 20;
  o.low = 2 << 20;
  return o;
}

// What the split writes: file count and sizes, measured once.
const TreeSummary& reference_tree() {
  static const TreeSummary summary = [] {
    const Model m = Model::from_bytes(resnet101(), "resnet101.tflite");
    const Graph g(m);
    const fs::path dir = scratch() / "reference";
    auto s = write_split_tree(m, g, plan_split(m, g, seven_mib()), dir, {});
    fs::remove_all(dir);
    return s;
  }();
  return summary;
}

void BM_SplitResNet101WholeTree(benchmark::State& state) {
  const fs::path dir = scratch() / "tree";
  int64_t bytes = 0;
  const fs::path& source = resnet101_file();
  for (auto _ : state) {
    const Model m = Model::load(source);
    const Graph g(m);
    const SplitPlan plan = plan_split(m, g, seven_mib());
    TreeOptions options;
    options.force = true;
    bytes = write_split_tree(m, g, plan, dir, options).bytes_written;
  }
  fs::remove_all(dir);
  state.SetBytesProcessed(bytes * state.iterations());
  state.counters["files"] = static_cast<double>(reference_tree().files.size());
}
BENCHMARK(BM_SplitResNet101WholeTree)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same number of bytes into the same number of files, written the same way (temporary file,
// then rename), from bytes already in memory.
void BM_CopySameBytes(benchmark::State& state) {
  const TreeSummary& tree = reference_tree();
  const fs::path dir = scratch() / "copy";
  const auto& source = resnet101();
  for (auto _ : state) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    int i = 0;
    for (const auto& f : tree.files) {
      std::span<const uint8_t> bytes(
          source.data(), std::min<size_t>(source.size(), static_cast<size_t>(f.file_bytes)));
      write_file_atomic(dir / ("f" + std::to_string(i++)), bytes);
    }
  }
  fs::remove_all(dir);
  state.SetBytesProcessed(tree.bytes_written * state.iterations());
}
BENCHMARK(BM_CopySameBytes)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_LoadAndFindCandidates(benchmark::State& state) {
  const fs::path& source = resnet101_file();
  for (auto _ : state) {
    const Model m = Model::load(source);
    const Graph g(m);
    benchmark::DoNotOptimize(find_cut_candidates(m, g).size());
  }
}
BENCHMARK(BM_LoadAndFindCandidates)->Unit(benchmark::kMillisecond);

// The Edge TPU estimate of the whole model (mapping, layout, caching, latency).
void BM_EstimateEdgeTpuResNet101(benchmark::State& state) {
  const Model m = Model::from_bytes(resnet101(), "resnet101.tflite");
  for (auto _ : state) benchmark::DoNotOptimize(estimate_edgetpu(m).latency.total());
}
BENCHMARK(BM_EstimateEdgeTpuResNet101)->Unit(benchmark::kMillisecond);

// Planning for throughput: the exact DP over ResNet-101's candidates with the Edge TPU model.
void BM_PlanThroughputResNet101(benchmark::State& state) {
  const Model m = Model::from_bytes(resnet101(), "resnet101.tflite");
  const Graph g(m);
  SplitOptions o = seven_mib();
  o.algorithm = Algorithm::kThroughput;
  o.speed = edgetpu_speed_model(m, EdgeTpuDevice{});
  for (auto _ : state) benchmark::DoNotOptimize(plan_split(m, g, o).sizes.size());
}
BENCHMARK(BM_PlanThroughputResNet101)->Unit(benchmark::kMillisecond);

// The optimal partitioner on 10,000 candidate cuts (a 10,000-op chain), as the issue requires.
void BM_Optimal10kCuts(benchmark::State& state) {
  PartitionProblem p;
  std::mt19937_64 rng(42);
  int64_t prefix = 0;
  for (int i = 0; i < 10000; ++i) {
    prefix += static_cast<int64_t>(rng() % 20000);
    p.cuts.push_back({"op" + std::to_string(i), prefix, static_cast<int64_t>(rng() % 100000)});
  }
  p.total_size = prefix + 1000;
  p.high = p.total_size / 40;
  p.low = p.high / 4;
  for (auto _ : state) benchmark::DoNotOptimize(partition_optimal(p).cuts.size());
}
BENCHMARK(BM_Optimal10kCuts)->Unit(benchmark::kMillisecond);

void BM_Greedy10kCuts(benchmark::State& state) {
  PartitionProblem p;
  std::mt19937_64 rng(42);
  int64_t prefix = 0;
  for (int i = 0; i < 10000; ++i) {
    prefix += static_cast<int64_t>(rng() % 20000);
    p.cuts.push_back({"op" + std::to_string(i), prefix, 0});
  }
  p.total_size = prefix + 1000;
  p.high = p.total_size / 40;
  for (auto _ : state) benchmark::DoNotOptimize(partition_greedy(p).cuts.size());
}
BENCHMARK(BM_Greedy10kCuts)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pipecut

BENCHMARK_MAIN();
