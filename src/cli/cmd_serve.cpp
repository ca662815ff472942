// pipecut serve TREE --nats URL: the tree's stages as workers on NATS JetStream work queues.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/remote_options.h"
#include "pipecut/error.h"
#include "pipecut/remote.h"

namespace pipecut::cli {

namespace {

struct ServeArgs {
  RemoteArgs remote;
  std::vector<int> stages;
  int workers = 1;
  int threads = 1;
  std::string weights = "auto";
  bool pin = false;
};

}  // namespace

void add_serve(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Serve a split tree's stages as workers on NATS JetStream (until SIGINT/SIGTERM)");
  add_remote_options(*cmd, args->remote);
  cmd->add_option("--stages", args->stages, "stages to serve, 1-based (default: all)")
      ->delimiter(',');
  cmd->add_option("--workers", args->workers,
                  "workers per stage, sharing its queue; on a host that runs the whole tree, one "
                  "per core (with --weights macs) lets a core that runs dry take any stage's next "
                  "frame")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--threads", args->threads, "CPU threads per worker")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--weights", args->weights,
                  "how the workers share cores with other stages' workers: macs (a nice value "
                  "per stage, in proportion to its multiply-accumulates, as pipeline does; for "
                  "several serve processes on one host), equal, or auto (macs when this "
                  "process's worker threads outnumber the cores)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "macs", "equal"}));
  cmd->add_flag(
      "--pin", args->pin,
      "bind each worker to one core, the tree's stages spread over this host's cores "
      "by their multiply-accumulates (the same plan in every serve process with the "
      "same --workers; a stage's workers on different cores); for a host that runs the whole tree");
  cmd->callback([args] {
    const RemoteLayout layout = remote_layout(args->remote.tree, args->remote.folder);
    // SIGINT and SIGTERM go to one waiting thread, which stops the workers: a frame in progress is
    // finished and acknowledged first, never left half done.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    StageWorkers::Options options;
    options.stages = args->stages;
    options.workers = args->workers;
    options.threads = args->threads;
    options.weights = args->weights == "macs"    ? StageWorkers::Options::Weights::kMacs
                      : args->weights == "equal" ? StageWorkers::Options::Weights::kEqual
                                                 : StageWorkers::Options::Weights::kAuto;
    options.pin = args->pin;
    StageWorkers workers(layout, to_nats_options(args->remote), options);
    std::string served;
    for (int s : args->stages) served += (served.empty() ? "" : ",") + std::to_string(s);
    const char* noun = args->stages.size() == 1 ? "stage " : "stages ";
    std::cerr << "serving " << (served.empty() ? "every stage" : noun + served) << " of "
              << layout.stages.size() << " (queues " << layout.id << ") with " << args->workers
              << " worker(s) each on " << args->remote.nats.url;
    const std::vector<int> nice = workers.nice_steps();
    if (std::any_of(nice.begin(), nice.end(), [](int n) { return n > 0; })) {
      std::cerr << ", weighed: nice +";
      for (size_t i = 0; i < nice.size(); ++i) std::cerr << (i ? "," : "") << nice[i];
    }
    // Per stage, its workers' CPUs joined by '/': "on CPU 0,1" or "on CPU 0/1,1/0".
    const std::vector<std::vector<int>> cpus = workers.cpus();
    if (std::any_of(cpus.begin(), cpus.end(), [](const std::vector<int>& stage) {
          return std::any_of(stage.begin(), stage.end(), [](int c) { return c >= 0; });
        })) {
      std::cerr << ", on CPU ";
      for (size_t i = 0; i < cpus.size(); ++i) {
        std::cerr << (i ? "," : "");
        for (size_t w = 0; w < cpus[i].size(); ++w) std::cerr << (w ? "/" : "") << cpus[i][w];
      }
    }
    std::cerr << std::endl;
    std::thread waiter([&workers, signals] {
      int sig = 0;
      sigwait(&signals, &sig);
      workers.stop();
    });
    const std::string failure = workers.wait();
    if (!failure.empty()) {
      pthread_kill(waiter.native_handle(), SIGTERM);  // wakes the waiter's sigwait
      waiter.join();
      throw Error(failure);
    }
    waiter.join();
    // What each stage did, for comparing with plan's estimates (docs/serve.md).
    const auto stats = workers.stats();
    for (size_t i = 0; i < stats.size(); ++i) {
      const int stage = args->stages.empty() ? static_cast<int>(i) + 1 : args->stages[i];
      const auto& s = stats[i];
      const double n = static_cast<double>(std::max<uint64_t>(s.frames, 1));
      std::fprintf(stderr,
                   "stage %d: %llu frames (%llu redelivered, %llu failed runs), run %.3f ms/frame, "
                   "CPU %.3f ms/frame\n",
                   stage, static_cast<unsigned long long>(s.frames),
                   static_cast<unsigned long long>(s.redelivered),
                   static_cast<unsigned long long>(s.failed_attempts),
                   std::chrono::duration<double, std::milli>(s.run_total).count() / n,
                   std::chrono::duration<double, std::milli>(s.cpu_total).count() / n);
    }
  });
}

}  // namespace pipecut::cli
