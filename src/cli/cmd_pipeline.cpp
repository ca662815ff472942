// pipecut pipeline OUTDIR: the full_split segments as a pipeline, one stage per segment.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/table.h"
#include "pipecut/error.h"
#include "pipecut/inputs.h"
#include "pipecut/model.h"
#include "pipecut/pipeline.h"
#include "pipecut/progress.h"
#include "pipecut/split_tree.h"

namespace pipecut::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct PipelineArgs {
  std::string dir;
  int frames = 200;
  int threads_per_stage = 1;
  int queue = 2;
  double time_slice_ms = 20;
  int distinct_inputs = 4;
  std::string weights = "latency";
  bool pin = false;
  bool json = false;
};

// CPU time of the whole process (every thread, user and system), in seconds.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto sec = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return sec(usage.ru_utime) + sec(usage.ru_stime);
}

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// A stage's total spread over the frames it ran, in ms (0 before its first frame).
double per_frame(const StageStats& s, std::chrono::nanoseconds total) {
  return s.frames ? ms(total) / static_cast<double>(s.frames) : 0.0;
}

}  // namespace

void add_pipeline(CLI::App& app) {
  auto args = std::make_shared<PipelineArgs>();
  CLI::App* cmd = app.add_subcommand(
      "pipeline", "Run the full_split segments as a pipeline; throughput against the ideal");
  cmd->add_option("outdir", args->dir, "folder written by pipecut split")->required();
  cmd->add_option("--frames", args->frames, "frames to push")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--threads-per-stage", args->threads_per_stage, "CPU threads each stage uses")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--queue", args->queue, "frames each queue between stages holds")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--time-slice-ms", args->time_slice_ms,
                  "time slice each stage thread asks Linux (6.12+) for; 0: the kernel's default")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option(
         "--weights", args->weights,
         "how the kernel shares the cores among stage threads when they outnumber the cores: "
         "latency (in proportion to each stage's latency alone, through nice values) or "
         "equal")
      ->capture_default_str()
      ->check(CLI::IsMember({"latency", "equal"}));
  cmd->add_flag("--pin", args->pin,
                "bind each stage's thread to one core, the stages spread so that every core "
                "carries about the same work per frame (when the stage threads outnumber the "
                "cores)");
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback([args] {
    if (args->pin && args->threads_per_stage > 1) {
      throw Error(args->dir + ": --pin binds each stage's one thread to a core; with " +
                  "--threads-per-stage " + std::to_string(args->threads_per_stage) +
                  " leave it off");
    }
    const SplitTree tree = read_split_tree(args->dir);
    std::vector<std::unique_ptr<Executable>> stages;
    std::vector<std::string> names;
    CpuOptions options;
    options.threads = args->threads_per_stage;
    ProgressBar bar(!args->json);
    const auto& files = tree.full_split().files;
    for (size_t i = 0; i < files.size(); ++i) {
      bar.update(static_cast<int64_t>(i), static_cast<int64_t>(files.size()),
                 "loading and timing " + files[i].path.filename().string());
      const Model model = Model::load(files[i].path);
      stages.push_back(load_cpu(model, options));
      names.push_back(files[i].path.filename().string());
    }
    std::vector<Executable*> raw;
    std::vector<std::vector<TensorValue>> stage_inputs;
    for (const auto& stage : stages) {
      raw.push_back(stage.get());
      stage_inputs.push_back(random_inputs(stage->inputs(), 7));
    }
    bar.working("timing each stage alone");
    const std::vector<double> alone_seconds = stage_latencies_alone(raw, stage_inputs, 15, 1.0);
    std::vector<double> alone;
    for (double s : alone_seconds) alone.push_back(s * 1000);
    PipelineOptions popts;
    popts.queue_capacity = static_cast<size_t>(args->queue);
    popts.time_slice = std::chrono::microseconds(std::llround(args->time_slice_ms * 1000));
    popts.stage_names = names;
    const int cores = usable_cores();
    // Weights matter only when the stage threads outnumber the cores; otherwise raising nice
    // would only make the pipeline yield to other processes.
    const bool weighted = args->weights == "latency" &&
                          stage_threads_outnumber_cores(raw.size(), args->threads_per_stage, cores);
    if (weighted) popts.stage_costs = alone_seconds;
    if (args->pin && stage_threads_outnumber_cores(raw.size(), args->threads_per_stage, cores))
      popts.stage_cpus = stage_cpus(alone_seconds);

    Pipeline pipeline(std::move(stages), popts);

    std::vector<std::vector<TensorValue>> distinct;
    for (int i = 0; i < args->distinct_inputs; ++i)
      distinct.push_back(random_inputs(pipeline.inputs(), 100 + static_cast<uint64_t>(i)));
    const double cpu_start = process_cpu_seconds();
    const auto start = Clock::now();
    std::exception_ptr producer_error;
    std::thread producer([&] {
      try {
        for (int i = 0; i < args->frames; ++i)
          pipeline.push(distinct[static_cast<size_t>(i) % distinct.size()]);
        pipeline.push_end();
      } catch (...) {
        producer_error = std::current_exception();
        pipeline.cancel();
      }
    });
    int64_t received = 0;
    Clock::time_point first_out, last_out;  // for the steady rate
    try {
      while (pipeline.pop()) {
        last_out = Clock::now();
        if (received == 0) first_out = last_out;
        ++received;
        bar.update(received, args->frames, "frames through the pipeline");
      }
    } catch (...) {
      pipeline.cancel();
      producer.join();
      throw;
    }
    producer.join();
    if (producer_error) std::rethrow_exception(producer_error);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const double process_cpu = process_cpu_seconds() - cpu_start;
    bar.finish();
    if (received != args->frames)
      throw Error(args->dir + ": " + std::to_string(received) + " of " +
                  std::to_string(args->frames) + " frames came back");

    double sum = 0;  // ms
    for (double a : alone) sum += a;
    const double ideal_fps = ideal_throughput(alone_seconds, cores, args->threads_per_stage);
    const double fps = static_cast<double>(received) / seconds;
    // The ratio holds the rate once the pipeline is full against the ideal, itself a steady-state
    // figure; a single frame has no such rate, and then the whole run's stands in.
    const double steady = steady_throughput(static_cast<size_t>(received), first_out, last_out);
    const double rate = steady > 0 ? steady : fps;
    const auto stats = pipeline.stats();
    // Where a ratio below 1 comes from: cores left idle, or stages running slower than alone.
    const double cores_busy = process_cpu / (seconds * cores);
    double stage_cpu_ms = 0;
    for (const auto& s : stats) stage_cpu_ms += ms(s.cpu_total);
    const double stage_cpu_per_frame = stage_cpu_ms / static_cast<double>(received);

    if (args->json) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (size_t i = 0; i < stats.size(); ++i) {
        const auto& s = stats[i];
        list.push_back({{"stage", s.name},
                        {"alone_ms", alone[i]},
                        {"frames", s.frames},
                        {"busy_mean_ms", per_frame(s, s.busy_total)},
                        {"cpu_mean_ms", per_frame(s, s.cpu_total)},
                        {"input_wait_ms", ms(s.input_wait)},
                        {"output_wait_ms", ms(s.output_wait)},
                        {"nice_raised", s.nice_raised},
                        {"bound_cpu", s.cpu}});
      }
      std::cout << nlohmann::ordered_json{{"frames", received},
                                          {"seconds", seconds},
                                          {"throughput_fps", fps},
                                          {"steady_fps", rate},
                                          {"ideal_fps", ideal_fps},
                                          {"ratio", rate / ideal_fps},
                                          {"cores_busy", cores_busy},
                                          {"stage_cpu_ms_per_frame", stage_cpu_per_frame},
                                          {"alone_sum_ms", sum},
                                          {"cores", cores},
                                          {"threads_per_stage", args->threads_per_stage},
                                          {"queue", args->queue},
                                          {"time_slice_ms", args->time_slice_ms},
                                          {"weights", args->weights},
                                          {"weighted", weighted},
                                          {"pinned", std::any_of(stats.begin(), stats.end(),
                                                                 [](const StageStats& s) {
                                                                   return s.cpu >= 0;
                                                                 })},
                                          {"stages", list}}
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
      return;
    }
    Table table({"stage", "alone ms", "busy ms/frame", "cpu ms/frame", "waiting for input ms",
                 "blocked on output ms", "nice +", "cpu"},
                {false, true, true, true, true, true, true, true});
    for (size_t i = 0; i < stats.size(); ++i) {
      const auto& s = stats[i];
      table.add({s.name, fixed(alone[i], 3), fixed(per_frame(s, s.busy_total), 3),
                 fixed(per_frame(s, s.cpu_total), 3), fixed(ms(s.input_wait), 1),
                 fixed(ms(s.output_wait), 1), std::to_string(s.nice_raised),
                 s.cpu < 0 ? "-" : std::to_string(s.cpu)});
    }
    table.print(std::cout);
    std::printf(
        "%lld frames in %.3f s: %.1f frames/s, %.1f once full (first to last output); ideal %.1f "
        "frames/s (min of 1/slowest stage and %d cores / sum of stages); ratio %.3f\n",
        static_cast<long long>(received), seconds, fps, rate, ideal_fps, cores, rate / ideal_fps);
    std::printf(
        "cores busy %.1f %%; the stages' CPU time per frame %.2f ms against %.2f ms alone (%+.1f "
        "%%)\n",
        100 * cores_busy, stage_cpu_per_frame, sum, 100 * (stage_cpu_per_frame / sum - 1));
  });
}

}  // namespace pipecut::cli
