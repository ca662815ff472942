// pipecut infer TREE --nats URL: frames through a served tree, results in order, and the figures.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/remote_options.h"
#include "pipecut/error.h"
#include "pipecut/inputs.h"
#include "pipecut/pipeline.h"
#include "pipecut/progress.h"
#include "pipecut/remote.h"

namespace pipecut::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct InferArgs {
  RemoteArgs remote;
  int frames = 100;
  std::vector<std::string> images;
  int window = 0;
  int distinct = 4;
  bool check = false;
  double timeout_s = 60;
  bool json = false;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * v.size())) - (p > 0));
  return v[i];
}

}  // namespace

void add_infer(CLI::App& app) {
  auto args = std::make_shared<InferArgs>();
  CLI::App* cmd = app.add_subcommand(
      "infer", "Push frames through a tree served with pipecut serve; results in frame order");
  add_remote_options(*cmd, args->remote);
  cmd->add_option("--frames", args->frames,
                  "frames to push (seeded random inputs, or the images in turn)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--images", args->images, "JPEG, PNG or BMP files for the first input")
      ->check(CLI::ExistingFile);
  cmd->add_option("--window", args->window,
                  "frames in flight at most (default: twice the stages, plus 2)")
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--check", args->check,
                "compare every result with the tree run locally, bit for bit");
  cmd->add_option("--timeout", args->timeout_s, "seconds to wait for the next result")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback([args] {
    const RemoteLayout layout = remote_layout(args->remote.tree, args->remote.folder);
    std::vector<std::vector<TensorValue>> distinct;
    if (!args->images.empty()) {
      if (layout.inputs.size() != 1)
        throw Error(args->remote.tree + ": --images needs a tree with one input");
      for (const auto& image : args->images)
        distinct.push_back({image_input(layout.inputs[0], image)});
    } else {
      for (int i = 0; i < args->distinct; ++i)
        distinct.push_back(random_inputs(layout.inputs, 100 + static_cast<uint64_t>(i)));
    }
    std::vector<std::vector<TensorValue>> expected;
    if (args->check) {
      LocalCascade cascade(layout);
      for (const auto& in : distinct) expected.push_back(cascade.run(in));
    }
    // SIGINT and SIGTERM cancel the run, so that it unwinds and removes its result consumer from
    // the server instead of leaving it behind.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    RemotePipeline pipeline(layout, to_nats_options(args->remote));
    std::atomic<bool> finished{false};
    std::thread waiter([&pipeline, &finished, signals] {
      int sig = 0;
      sigwait(&signals, &sig);
      if (!finished) pipeline.cancel();
    });
    struct Release {  // wakes the waiter however the run ends
      std::thread& waiter;
      std::atomic<bool>& finished;
      ~Release() {
        finished = true;
        pthread_kill(waiter.native_handle(), SIGTERM);
        waiter.join();
      }
    } release{waiter, finished};
    const size_t window =
        args->window > 0 ? static_cast<size_t>(args->window) : 2 * layout.stages.size() + 2;
    const auto timeout = std::chrono::milliseconds(std::llround(args->timeout_s * 1000));
    ProgressBar bar(!args->json);
    std::vector<double> latencies;
    std::vector<std::pair<uint64_t, std::string>> failures;
    uint64_t mismatches = 0, popped = 0;
    const size_t total = static_cast<size_t>(args->frames);
    size_t pushed = 0;
    const auto start = Clock::now();
    Clock::time_point first_back, last_back;  // for the steady rate, as pipeline reports it
    while (popped < total) {
      while (pushed < total && pushed - popped < window)
        pipeline.push(distinct[pushed++ % distinct.size()]);
      const auto r = pipeline.pop(timeout);
      if (!r) break;
      last_back = Clock::now();
      if (popped == 0) first_back = last_back;
      ++popped;
      bar.update(static_cast<int64_t>(popped), static_cast<int64_t>(total), "frames back");
      latencies.push_back(std::chrono::duration<double, std::milli>(r->latency).count());
      if (r->failed) {
        failures.emplace_back(r->frame, r->reason);
        continue;
      }
      if (args->check) {
        const auto& want = expected[r->frame % expected.size()];
        bool same = want.size() == r->outputs.size();
        for (size_t i = 0; same && i < want.size(); ++i) same = want[i].data == r->outputs[i].data;
        if (!same) ++mismatches;
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    bar.finish();
    const RemoteStats st = pipeline.stats();
    const double fps = static_cast<double>(popped) / seconds;
    // Once the pipeline is full (first result to last): what `pipeline` reports as steady_fps,
    // for comparing the two; a single frame has no such rate, and then the whole run's stands in.
    const double steady = steady_throughput(static_cast<size_t>(popped), first_back, last_back);
    const double steady_fps = steady > 0 ? steady : fps;
    if (args->json) {
      nlohmann::ordered_json failed = nlohmann::ordered_json::array();
      for (const auto& [frame, reason] : failures)
        failed.push_back({{"frame", frame}, {"reason", reason}});
      nlohmann::ordered_json j{{"queues", layout.id},
                               {"stages", layout.stages.size()},
                               {"frames", popped},
                               {"seconds", seconds},
                               {"throughput_fps", fps},
                               {"steady_fps", steady_fps},
                               {"latency_ms",
                                {{"p50", percentile(latencies, 0.5)},
                                 {"p90", percentile(latencies, 0.9)},
                                 {"p99", percentile(latencies, 0.99)},
                                 {"max", percentile(latencies, 1.0)}}},
                               {"redelivered", st.redelivered},
                               {"duplicates_dropped", st.duplicates},
                               {"failed", failed}};
      if (args->check) j["mismatches"] = mismatches;
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
      std::printf(
          "%llu frames in %.3f s: %.1f frames/s (%.1f once full); latency p50 %.2f ms, p90 %.2f "
          "ms, p99 %.2f ms\n",
          static_cast<unsigned long long>(popped), seconds, fps, steady_fps,
          percentile(latencies, 0.5), percentile(latencies, 0.9), percentile(latencies, 0.99));
      std::printf(
          "redelivered %llu, duplicates dropped %llu, failed %zu%s\n",
          static_cast<unsigned long long>(st.redelivered),
          static_cast<unsigned long long>(st.duplicates), failures.size(),
          args->check
              ? (", results differing from the local cascade " + std::to_string(mismatches)).c_str()
              : "");
      for (const auto& [frame, reason] : failures)
        std::printf("frame %llu failed: %s\n", static_cast<unsigned long long>(frame),
                    reason.c_str());
    }
    if (mismatches > 0)
      throw Error(args->remote.tree + ": " + std::to_string(mismatches) +
                  " results differ from the local cascade");
  });
}

}  // namespace pipecut::cli
