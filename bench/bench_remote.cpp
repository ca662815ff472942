// The transport alone: frames through three relay stages (each copies its tensor on) in process
// (Pipeline) and over NATS JetStream on loopback (serve's workers and infer's client, in-memory
// and file-backed streams), for tensors of 50, 200 and 800 KiB. bench/run.sh prints frames per
// second and the latency each NATS hop adds. Starts its own nats-server on 127.0.0.1.
#include <benchmark/benchmark.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "pipecut/pipeline.h"
#include "pipecut/remote.h"
#include "support/nats_server.h"

namespace {

using namespace pipecut;
namespace fs = std::filesystem;
constexpr int kStages = 3;
constexpr int kFrames = 200;

TensorSpec spec(int index, int64_t bytes) {
  return TensorSpec{
      "t" + std::to_string(index), DType::kInt8, {1, static_cast<int32_t>(bytes)}, {}};
}

class Relay : public Executable {
 public:
  Relay(int stage, int64_t bytes) : in_{spec(stage - 1, bytes)}, out_{spec(stage, bytes)} {}
  const std::vector<TensorSpec>& inputs() const override { return in_; }
  const std::vector<TensorSpec>& outputs() const override { return out_; }
  std::vector<TensorValue> run(const std::vector<TensorValue>& in) override {
    TensorValue v = in.at(0);
    v.name = out_[0].name;
    return {std::move(v)};
  }
  std::string backend() const override { return "relay"; }

 private:
  std::vector<TensorSpec> in_, out_;
};

testing::NatsServer& server() {
  static const fs::path dir = [] {
    const char* env = std::getenv("PIPECUT_BENCH_DIR");
    fs::path d = fs::path(env ? env : fs::temp_directory_path().string()) /
                 ("bench-nats-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  static testing::NatsServer s(dir, "max_payload: 4MB");
  return s;
}

RemoteLayout relay_layout(int64_t bytes, const std::string& tag) {
  RemoteLayout layout;
  layout.id = tag + std::to_string(bytes) + "p" + std::to_string(::getpid());
  for (int s = 1; s <= kStages; ++s) {
    RemoteLayout::Stage st;
    st.forwards = {"t" + std::to_string(s)};
    st.largest_message = bytes + 1024;
    layout.stages.push_back(st);
  }
  layout.inputs = {spec(0, bytes)};
  layout.outputs = {spec(kStages, bytes)};
  layout.name_queues();
  return layout;
}

std::vector<TensorValue> frame(int64_t bytes) {
  const TensorSpec s = spec(0, bytes);
  return {TensorValue{
      s.name, s.type, s.shape, {}, std::vector<uint8_t>(static_cast<size_t>(bytes), 7)}};
}

// CPU seconds a process has used so far (user + system, all threads), from /proc.
double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Pushes `frames` keeping at most `window` in flight; pops each.
template <typename Push, typename Pop>
void stream(int frames, int window, Push push, Pop pop) {
  int pushed = 0, popped = 0;
  while (popped < frames) {
    while (pushed < frames && pushed - popped < window) {
      push();
      ++pushed;
    }
    pop();
    ++popped;
  }
}

void BM_InProcess(benchmark::State& state) {
  const int64_t bytes = state.range(0) << 10;
  const int window = static_cast<int>(state.range(1));
  std::vector<std::unique_ptr<Executable>> stages;
  for (int s = 1; s <= kStages; ++s) stages.push_back(std::make_unique<Relay>(s, bytes));
  Pipeline pipeline(std::move(stages), {});
  const auto input = frame(bytes);
  for (auto _ : state)
    stream(
        kFrames, window, [&] { pipeline.push(input); }, [&] { pipeline.pop(); });
  state.counters["fps"] = benchmark::Counter(static_cast<double>(kFrames) * state.iterations(),
                                             benchmark::Counter::kIsRate);
}

void BM_Nats(benchmark::State& state) {
  const int64_t bytes = state.range(0) << 10;
  const int window = static_cast<int>(state.range(1));
  const bool memory = state.range(2) != 0;
  NatsOptions nats;
  nats.url = server().url();
  nats.memory_storage = memory;
  const RemoteLayout layout = relay_layout(bytes, memory ? "m" : "f");
  StageWorkers::Options options;
  options.make_stage = [bytes](int s) { return std::make_unique<Relay>(s, bytes); };
  StageWorkers workers(layout, nats, options);
  RemotePipeline client(layout, nats);
  const auto input = frame(bytes);
  const double own0 = own_cpu_seconds(), server0 = process_cpu_seconds(server().pid());
  for (auto _ : state) {
    stream(
        kFrames, window, [&] { client.push(input); },
        [&] {
          const auto r = client.pop(std::chrono::seconds(60));
          if (!r || r->failed) state.SkipWithError("a frame failed");
        });
  }
  state.counters["fps"] = benchmark::Counter(static_cast<double>(kFrames) * state.iterations(),
                                             benchmark::Counter::kIsRate);
  // The transport's CPU per hop (kStages + 1 per frame, each 4 NATS messages: the publish, its
  // acknowledgement, the delivery and the acknowledgement that asks for the next): the workers'
  // and the client's (this process, relays included: they copy as an in-process stage would)
  // and the server's.
  const double hops = static_cast<double>(kFrames * (kStages + 1)) * state.iterations();
  state.counters["us_per_hop_here"] = 1e6 * (own_cpu_seconds() - own0) / hops;
  state.counters["us_per_hop_server"] =
      1e6 * (process_cpu_seconds(server().pid()) - server0) / hops;
}

// Args: KiB, frames in flight (1: latency, 8: throughput), and for NATS 1 = memory streams.
void sizes_local(benchmark::internal::Benchmark* b) {
  for (int kib : {50, 200, 800})
    for (int window : {1, 8}) b->Args({kib, window});
}
void sizes_nats(benchmark::internal::Benchmark* b) {
  for (int memory : {1, 0})
    for (int kib : {50, 200, 800})
      for (int window : {1, 8}) b->Args({kib, window, memory});
}
BENCHMARK(BM_InProcess)
    ->Apply(sizes_local)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK(BM_Nats)->Apply(sizes_nats)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
