#pragma once
// Running a cut model as a pipeline, in the spirit of Coral's PipelinedModelRunner: one worker
// thread per stage (segment), bounded queues between stages, tensors connected by name, outputs
// in input order. docs/pipeline-api.md describes ordering, back-pressure, errors and shutdown.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipecut/runtime.h"

namespace pipecut {

struct PipelineOptions {
  // Frames each queue holds: the one before the first stage, each one between two stages and the
  // one after the last stage. push() blocks while the first queue is full. At least 1.
  size_t queue_capacity = 2;
  // One name per stage (e.g. its segment file) for error messages and stats; empty: no names.
  std::vector<std::string> stage_names;
  // The pipeline inputs, in push() order. Empty: the first stage's inputs, in its order. List
  // them to feed a tensor that a later stage reads (a model input used past the first segment).
  std::vector<std::string> inputs;
  // The pipeline outputs, in pop() order. Empty: every tensor a stage produces that no later
  // stage reads, by stage and then in that stage's output order (the last stage's outputs come
  // last). Any pipeline input or stage output may be listed.
  std::vector<std::string> outputs;
  // The time slice each worker thread asks the kernel for (Linux 6.12 and later; older kernels
  // ignore it): long enough that a stage's run() is seldom preempted midway when there are more
  // stages than cores. With the kernel's default of about 1.4 ms, ResNet-101's 7 stages on 2
  // cores were preempted twice as often and ran 3-5 % slower (docs/pipeline-api.md). 0 leaves
  // the kernel's default.
  std::chrono::microseconds time_slice{20'000};
  // Each stage's relative CPU cost per frame, such as its latency alone (stage_latencies_alone);
  // empty, or one positive finite value per stage. When given, each worker lowers its own
  // thread's scheduling weight in proportion before its first frame: it raises its nice value
  // by round(log(costliest / cost) / log 1.25) steps, at most to 19 (each step divides a Linux
  // thread's weight by 1.25; the costliest stage keeps the caller's nice). With more stage
  // threads than cores, the kernel then shares the cores as each stage's work per frame needs,
  // rather than equally, so a heavy stage no longer falls behind and leaves the stages after it,
  // and a core, idle (docs/pipeline-api.md). The lighter stages also yield more to other
  // processes, so pass costs only when stage_threads_outnumber_cores(). Empty: every worker keeps
  // the caller's nice.
  std::vector<double> stage_costs;
  // One CPU id per stage, or empty. When given, each worker binds its thread to that CPU before
  // its first frame (threads the stage starts later inherit it; helper threads it started before,
  // as a multi-threaded stage timed alone has, keep their own), so the kernel's load balancer
  // cannot leave a core idle while a stage waits on the other (pipecut::stage_cpus plans them).
  // Meant for one thread per stage. A CPU the kernel refuses leaves that worker unbound
  // (StageStats::cpu says -1).
  std::vector<int> stage_cpus;
};

// Per stage, since construction. Times are wall-clock on the stage's worker thread.
struct StageStats {
  std::string name;
  uint64_t frames = 0;                     // run() calls that returned
  std::chrono::nanoseconds busy_total{0};  // time inside run(), wall clock
  // CPU time of the worker thread inside run() (not counting helper threads of a stage that uses
  // more than one): below busy_total when the stage is preempted, as on fewer cores than stages.
  std::chrono::nanoseconds cpu_total{0};
  std::chrono::nanoseconds busy_min{0};  // 0 while frames == 0
  std::chrono::nanoseconds busy_max{0};
  std::chrono::nanoseconds input_wait{0};   // waiting for a frame (starved; includes idle)
  std::chrono::nanoseconds output_wait{0};  // blocked on a full output queue (back-pressure)
  size_t input_queue_peak = 0;              // most frames its input queue ever held
  int nice_raised = 0;  // steps the worker raised its nice value by (Options::stage_costs)
  int cpu = -1;         // the CPU the worker is bound to (Options::stage_cpus); -1: none
};

// The first stage failure: the exception a stage's run() threw (or a wrong result it returned).
struct StageFailure {
  size_t stage = 0;  // 0-based, the position in the constructor's vector and in stats()
  std::string name;
  std::string reason;
  // "pipeline stage 3 (seg4): reason", or "pipeline stage 3: reason" without a name.
  std::string message() const;
};

// Thread safety: producers call push()/push_end() while consumers call pop() (frames are
// numbered in the order push() accepts them); cancel(), stats(), failure(), inputs() and
// outputs() may be called from any thread. Pushing and popping from one thread blocks forever
// once max_in_flight() frames wait. Each stage's run() is called only from its own worker
// thread. The destructor must not run while another thread is inside push() or pop() (call
// cancel() to wake them, and join them first).
class Pipeline {
 public:
  using Options = PipelineOptions;

  // Starts one worker thread per stage. Wires stages by tensor name: each stage input must be a
  // pipeline input or an output of an earlier stage (same type and shape); a tensor that a later
  // stage or the pipeline output needs rides along in the frame through the stages in between.
  // Throws pipecut::Error naming the stage and the tensor when the wiring does not close.
  explicit Pipeline(std::vector<std::unique_ptr<Executable>> stages, const Options& options = {});
  // Stops the workers (the frames still in flight are dropped), waits for each to leave the
  // run() it may be in, joins them and destroys the stages. Never waits for queued frames.
  ~Pipeline();
  Pipeline(Pipeline&&) noexcept;             // the moved-from pipeline may only be destroyed
  Pipeline& operator=(Pipeline&&) noexcept;  // stops and joins the pipeline it replaces
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  const std::vector<TensorSpec>& inputs() const;   // what push() takes, in order
  const std::vector<TensorSpec>& outputs() const;  // what pop() returns, in order
  size_t stage_count() const;
  // Most frames that can be pushed and not yet popped: (stages + 1) * queue_capacity + stages
  // (every queue full and every worker holding one frame).
  size_t max_in_flight() const;

  // Queues one frame: values in the order of inputs() (an empty name takes the spec's name).
  // Blocks while the first queue is full. Throws pipecut::Error, leaving the pipeline running,
  // for a wrong count, name, type, shape or byte size, or after push_end(); throws the stage
  // failure's message once a stage failed, and "pipeline cancelled" after cancel().
  void push(std::vector<TensorValue> inputs);
  // Ends the stream: pop() returns nullopt once every pushed frame was popped. Idempotent. Does
  // not wait for queue space (only for a push() in progress on another thread).
  void push_end();
  // The next frame's outputs in the order of outputs(), frames in push order. Blocks until one is
  // ready; nullopt after the end of the stream (again on every later call). Throws like push()
  // once a stage failed or the pipeline was cancelled, even if finished frames are waiting.
  std::optional<std::vector<TensorValue>> pop();
  // Stops the pipeline: blocked and later push()/pop() calls throw "pipeline cancelled".
  void cancel();

  std::vector<StageStats> stats() const;
  std::optional<StageFailure> failure() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Pushes `frames` and then the end of the stream from a helper thread while the calling thread
// pops; returns the outputs in frame order. Needs a pipeline with no frame in flight and no
// push_end() yet. Throws pipecut::Error: the stage failure, or "frame N: <why>" for a rejected
// frame; either way the pipeline is cancelled and the helper thread joined first. With `popped`,
// also records when pop() returned each frame (for steady_throughput).
std::vector<std::vector<TensorValue>> run_pipeline(
    Pipeline& pipeline, std::vector<std::vector<TensorValue>> frames,
    std::vector<std::chrono::steady_clock::time_point>* popped = nullptr);

// Frames per second once the pipeline is full: (outputs - 1) / (time from the first output to the
// last), given when each frame came out. The first frame's trip through every stage, while the
// queues fill, is latency rather than throughput, so this is the rate to hold against
// ideal_throughput(). 0 with fewer than two outputs or no time between them.
double steady_throughput(const std::vector<std::chrono::steady_clock::time_point>& popped);
// The same from the count of outputs and the times of the first and the last.
double steady_throughput(size_t outputs, std::chrono::steady_clock::time_point first,
                         std::chrono::steady_clock::time_point last);

// Each stage's latency alone (no other stage running), in seconds: the median of at least
// `rounds` runs after a warm-up round, going on until `min_seconds` have passed (a longer window
// evens out a shared machine's slow spells). Rounds go through the stages in pipeline order, so
// each stage meets the caches as a cascade would leave them rather than warmed by its own
// previous run. `inputs[i]` feeds stage i. This is the per-stage figure the achievable-ideal
// throughput is computed from.
std::vector<double> stage_latencies_alone(const std::vector<Executable*>& stages,
                                          const std::vector<std::vector<TensorValue>>& inputs,
                                          int rounds, double min_seconds = 0);

// The achievable ideal throughput (frames per second) of stages with these latencies on `cores`
// cores, each stage using `threads_per_stage` threads: the smaller of 1 / slowest stage and
// cores / (sum of latencies x threads per stage).
double ideal_throughput(const std::vector<double>& latencies, double cores,
                        int threads_per_stage = 1);

// The CPUs the calling thread may run on (its affinity mask, which taskset and cpusets narrow),
// at least 1: the cores a pipeline started from it shares.
int usable_cores();

// Whether `stages` stages of `threads_per_stage` threads each outnumber `cores`: only then do
// the kernel's shares matter, and PipelineOptions::stage_costs help.
bool stage_threads_outnumber_cores(size_t stages, int threads_per_stage, int cores);

// A CPU id per stage for PipelineOptions::stage_cpus: the stages with these relative costs spread
// over the CPUs the calling thread may use (its affinity mask) so that each carries about the
// same work per frame (costliest first, each onto the least loaded CPU; the lowest CPU on a tie).
// The same costs give the same plan in every process. Empty where the kernel does not tell the
// CPUs (then nothing is pinned). Throws pipecut::Error for a cost that is not positive and finite.
std::vector<int> stage_cpus(const std::vector<double>& costs);

}  // namespace pipecut
