// The pipeline runner: wiring by tensor name at construction, then one worker thread per stage
// moving frames between bounded queues. A frame is a sequence number and the tensors live at one
// boundary, in a layout fixed per boundary at construction, so a worker only moves values by
// index: into the stage's arguments, and from the arguments, the results and the frame's other
// slots into the next boundary's layout. Nothing is copied.
#include "pipecut/pipeline.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "pipecut/error.h"
#include "pipeline/bounded_queue.h"
#include "pipeline/stage_cores.h"
#include "pipeline/stage_weight.h"
#include "pipeline/thread_clock.h"
#include "pipeline/time_slice.h"

namespace pipecut {
namespace {

using Clock = std::chrono::steady_clock;

using pipeline_detail::thread_cpu_time;

struct Frame {
  uint64_t seq = 0;
  std::vector<TensorValue> tensors;  // in the layout of the boundary the frame is at
};

// Where a value of the next boundary comes from, when stage i has run.
struct Source {
  enum Kind { kFrame, kArgument, kResult } kind = kFrame;
  size_t index = 0;  // frame slot, stage input or stage output
};

struct StageWiring {
  std::vector<size_t> argument_slots;  // per stage input: its slot in the incoming frame
  std::vector<Source> next;            // per slot of the outgoing frame
};

// A negative dimension on either side (dynamic) matches any size.
bool shapes_match(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] >= 0 && b[i] >= 0 && a[i] != b[i]) return false;
  }
  return true;
}

std::string type_and_shape(DType type, const std::vector<int32_t>& shape) {
  return std::string(dtype_name(type)) + " " + shape_text(shape);
}

// Checks one pushed value against its spec; an empty name takes the spec's.
void check_pushed(const TensorSpec& spec, TensorValue& value, size_t index) {
  const std::string where = "pipeline input " + std::to_string(index) + " '" + spec.name + "': ";
  if (value.name.empty()) {
    value.name = spec.name;
  } else if (value.name != spec.name) {
    throw Error(where + "got a value named '" + value.name + "'");
  }
  if (value.type != spec.type || !shapes_match(value.shape, spec.shape)) {
    throw Error(where + "expected " + type_and_shape(spec.type, spec.shape) + ", got " +
                type_and_shape(value.type, value.shape));
  }
  const int bits = dtype_bits(value.type);
  int64_t elements = 1;
  for (int32_t d : value.shape) elements *= d;
  if (bits > 0 && elements >= 0) {
    const int64_t bytes = (elements * bits + 7) / 8;
    if (static_cast<int64_t>(value.data.size()) != bytes) {
      throw Error(where + "expected " + std::to_string(bytes) + " bytes of data, got " +
                  std::to_string(value.data.size()));
    }
  }
}

// "pipeline stage 3 (seg4)", or "pipeline stage 3" without a name.
std::string stage_label(size_t stage, const std::string& name) {
  std::string label = "pipeline stage " + std::to_string(stage);
  if (!name.empty()) label += " (" + name + ")";
  return label;
}

}  // namespace

std::string StageFailure::message() const {
  return stage_label(stage, name) + ": " + reason;
}

struct Pipeline::Impl {
  struct StatsSlot {
    mutable std::mutex mutex;
    StageStats stats;
  };

  std::vector<std::unique_ptr<Executable>> stages;
  std::vector<std::string> names;
  std::vector<StageWiring> wiring;
  std::vector<TensorSpec> inputs, outputs;
  size_t capacity = 0;
  std::chrono::microseconds time_slice{0};
  std::vector<int> nice_steps;  // per stage; empty: leave the nice value alone
  std::vector<int> cpus;        // per stage; empty: leave the affinity alone
  // queues[i] feeds stage i; queues[stage count] holds finished frames for pop().
  std::vector<std::unique_ptr<BoundedQueue<Frame>>> queues;
  std::vector<std::unique_ptr<StatsSlot>> stats;

  mutable std::mutex state_mutex;  // guards failure and cancelled
  std::optional<StageFailure> failure;
  bool cancelled = false;

  std::mutex push_mutex;  // guards next_seq and ended; held while push() waits for room
  uint64_t next_seq = 0;
  bool ended = false;

  std::mutex pop_mutex;  // guards next_out and out_ended
  uint64_t next_out = 0;
  bool out_ended = false;

  std::vector<std::thread> workers;

  ~Impl() {
    stop(std::nullopt);
    for (std::thread& t : workers) t.join();
  }

  std::string label(size_t i) const { return stage_label(i, names[i]); }

  void wire(const Options& options);
  void start();
  void work(size_t i);

  // Records the first failure (or the cancellation) and wakes every queue.
  void stop(std::optional<StageFailure> f) {
    {
      std::lock_guard lock(state_mutex);
      if (f && !failure && !cancelled) failure = std::move(f);
      if (!f && !failure) cancelled = true;
    }
    for (auto& q : queues) q->abort();
  }

  [[noreturn]] void throw_stopped() const {
    std::lock_guard lock(state_mutex);
    if (failure) throw Error(failure->message());
    throw Error("pipeline cancelled");
  }

  void throw_if_stopped() const {
    bool stopped;
    {
      std::lock_guard lock(state_mutex);
      stopped = failure || cancelled;
    }
    if (stopped) throw_stopped();
  }
};

void Pipeline::Impl::wire(const Options& options) {
  const int n = static_cast<int>(stages.size());
  struct Info {
    int producer = -1;  // stage, or -1 for a pipeline input
    std::optional<TensorSpec> spec;
    int last_use = -1;  // last stage reading it, n for a pipeline output, -1 when unused
  };
  std::map<std::string, Info> tensors;
  std::vector<std::string> order;  // pipeline inputs, then stage outputs by stage and position

  const std::vector<std::string> input_names = [&] {
    if (!options.inputs.empty()) return options.inputs;
    std::vector<std::string> first;
    for (const TensorSpec& s : stages[0]->inputs()) {  // a repeat is reported as the stage's
      if (std::find(first.begin(), first.end(), s.name) == first.end()) first.push_back(s.name);
    }
    return first;
  }();
  for (const std::string& name : input_names) {
    if (!tensors.emplace(name, Info{}).second) {
      throw Error("pipeline: input '" + name + "' is listed twice");
    }
    order.push_back(name);
  }

  for (int i = 0; i < n; ++i) {
    std::vector<std::string> seen;
    auto once = [&](const std::string& name, const char* what) {
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
        throw Error(label(i) + ": " + what + " '" + name + "' appears twice");
      }
      seen.push_back(name);
    };
    for (const TensorSpec& s : stages[i]->inputs()) {
      once(s.name, "input");
      auto it = tensors.find(s.name);
      if (it == tensors.end()) {
        throw Error(label(i) + ": input '" + s.name +
                    "' is neither a pipeline input nor an output of an earlier stage");
      }
      Info& info = it->second;
      if (!info.spec) {
        info.spec = s;  // a pipeline input takes its first reader's spec
      } else if (info.spec->type != s.type || !shapes_match(info.spec->shape, s.shape)) {
        throw Error(label(i) + ": input '" + s.name + "' is " + type_and_shape(s.type, s.shape) +
                    " but " +
                    (info.producer < 0 ? std::string("the pipeline input") : label(info.producer)) +
                    " gives " + type_and_shape(info.spec->type, info.spec->shape));
      }
      info.last_use = i;
    }
    seen.clear();
    for (const TensorSpec& s : stages[i]->outputs()) {
      once(s.name, "output");
      auto [it, fresh] = tensors.emplace(s.name, Info{i, s, -1});
      if (!fresh) {
        throw Error(label(i) + ": output '" + s.name + "' is already " +
                    (it->second.producer < 0 ? std::string("a pipeline input")
                                             : "an output of " + label(it->second.producer)));
      }
      order.push_back(s.name);
    }
  }
  for (const std::string& name : input_names) {
    if (tensors[name].last_use < 0) {
      throw Error("pipeline: input '" + name + "' is read by no stage");
    }
  }

  std::vector<std::string> output_names;
  if (!options.outputs.empty()) {
    for (const std::string& name : options.outputs) {
      auto it = tensors.find(name);
      if (it == tensors.end()) {
        throw Error("pipeline: output '" + name +
                    "' is neither a pipeline input nor an output of a stage");
      }
      if (it->second.last_use == n) throw Error("pipeline: output '" + name + "' is listed twice");
      it->second.last_use = n;
      output_names.push_back(name);
    }
  } else {
    for (const std::string& name : order) {
      Info& info = tensors[name];
      if (info.producer >= 0 && info.last_use < 0) {
        info.last_use = n;
        output_names.push_back(name);
      }
    }
  }
  for (const std::string& name : input_names) inputs.push_back(*tensors[name].spec);
  for (const std::string& name : output_names) outputs.push_back(*tensors[name].spec);

  // The tensors each boundary carries: made before it, needed at or after it.
  std::vector<std::vector<std::string>> layouts(n + 1);
  for (int b = 0; b < n; ++b) {
    for (const std::string& name : order) {
      const Info& info = tensors[name];
      if (info.producer < b && info.last_use >= b) layouts[b].push_back(name);
    }
  }
  layouts[n] = output_names;

  for (int i = 0; i < n; ++i) {
    std::map<std::string, size_t> slot;
    for (size_t k = 0; k < layouts[i].size(); ++k) slot[layouts[i][k]] = k;
    std::map<size_t, size_t> argument_of_slot;
    StageWiring w;
    for (const TensorSpec& s : stages[i]->inputs()) {
      argument_of_slot[slot.at(s.name)] = w.argument_slots.size();
      w.argument_slots.push_back(slot.at(s.name));
    }
    for (const std::string& name : layouts[i + 1]) {
      if (tensors[name].producer == i) {
        const auto& outs = stages[i]->outputs();
        const auto pos = std::find_if(outs.begin(), outs.end(),
                                      [&](const TensorSpec& s) { return s.name == name; });
        w.next.push_back({Source::kResult, static_cast<size_t>(pos - outs.begin())});
      } else if (auto a = argument_of_slot.find(slot.at(name)); a != argument_of_slot.end()) {
        w.next.push_back({Source::kArgument, a->second});
      } else {
        w.next.push_back({Source::kFrame, slot.at(name)});
      }
    }
    wiring.push_back(std::move(w));
  }
}

void Pipeline::Impl::start() {
  for (size_t i = 0; i <= stages.size(); ++i) {
    queues.push_back(std::make_unique<BoundedQueue<Frame>>(capacity));
  }
  for (size_t i = 0; i < stages.size(); ++i) {
    stats.push_back(std::make_unique<StatsSlot>());
    stats.back()->stats.name = names[i];
  }
  workers.reserve(stages.size());
  // If a thread cannot start, ~Impl stops and joins the ones that did.
  for (size_t i = 0; i < stages.size(); ++i) workers.emplace_back([this, i] { work(i); });
}

void Pipeline::Impl::work(size_t i) {
  Executable& stage = *stages[i];
  const StageWiring& w = wiring[i];
  const std::vector<TensorSpec>& specs = stage.outputs();
  BoundedQueue<Frame>& in = *queues[i];
  BoundedQueue<Frame>& out = *queues[i + 1];
  StatsSlot& slot = *stats[i];
  uint64_t expected_seq = 0;
  if (time_slice.count() > 0) pipeline_detail::request_time_slice(time_slice);  // a hint only
  if (!cpus.empty() && pipeline_detail::pin_thread_to_cpu(cpus[i])) {  // inherited as nice is
    std::lock_guard lock(slot.mutex);
    slot.stats.cpu = cpus[i];
  }
  if (!nice_steps.empty()) {  // before run() starts any helper thread, which inherits it
    const int raised = pipeline_detail::raise_thread_nice(nice_steps[i]);
    std::lock_guard lock(slot.mutex);
    slot.stats.nice_raised = raised;
  }
  try {
    for (;;) {
      Frame frame;
      const Clock::time_point wait_start = Clock::now();
      const QueueStatus got = in.pop(frame);
      const Clock::duration input_wait = Clock::now() - wait_start;
      if (got != QueueStatus::kOk) {
        std::lock_guard lock(slot.mutex);
        slot.stats.input_wait += input_wait;
        if (got == QueueStatus::kClosed) out.close();
        return;
      }
      if (frame.seq != expected_seq) {  // FIFO queues and one thread per stage keep the order
        throw Error("internal error: frame " + std::to_string(frame.seq) +
                    " arrived out of order (expected " + std::to_string(expected_seq) + ")");
      }
      ++expected_seq;

      std::vector<TensorValue> arguments(w.argument_slots.size());
      for (size_t j = 0; j < arguments.size(); ++j) {
        arguments[j] = std::move(frame.tensors[w.argument_slots[j]]);
      }
      const Clock::time_point run_start = Clock::now();
      const std::chrono::nanoseconds cpu_start = thread_cpu_time();
      std::vector<TensorValue> results = stage.run(arguments);
      const std::chrono::nanoseconds cpu = thread_cpu_time() - cpu_start;
      const Clock::duration busy = Clock::now() - run_start;
      if (results.size() != specs.size()) {
        throw Error("run() returned " + std::to_string(results.size()) + " values for " +
                    std::to_string(specs.size()) + " outputs");
      }
      for (size_t k = 0; k < results.size(); ++k) {
        if (results[k].name.empty()) {
          results[k].name = specs[k].name;
        } else if (results[k].name != specs[k].name) {
          throw Error("run() returned '" + results[k].name + "' as output " + std::to_string(k) +
                      " '" + specs[k].name + "'");
        }
      }
      {
        std::lock_guard lock(slot.mutex);
        StageStats& s = slot.stats;
        const auto busy_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(busy);
        s.busy_min = s.frames == 0 ? busy_ns : std::min(s.busy_min, busy_ns);
        s.busy_max = std::max(s.busy_max, busy_ns);
        s.busy_total += busy_ns;
        s.cpu_total += cpu;
        s.input_wait += input_wait;
        ++s.frames;
      }

      Frame next{frame.seq, std::vector<TensorValue>(w.next.size())};
      for (size_t k = 0; k < w.next.size(); ++k) {
        const Source& src = w.next[k];
        std::vector<TensorValue>& from = src.kind == Source::kResult     ? results
                                         : src.kind == Source::kArgument ? arguments
                                                                         : frame.tensors;
        next.tensors[k] = std::move(from[src.index]);
      }
      const Clock::time_point push_start = Clock::now();
      const QueueStatus put = out.push(std::move(next));
      const Clock::duration output_wait = Clock::now() - push_start;
      {
        std::lock_guard lock(slot.mutex);
        slot.stats.output_wait += output_wait;
      }
      if (put != QueueStatus::kOk) return;
    }
  } catch (const std::exception& e) {
    stop(StageFailure{i, names[i], e.what()});
  } catch (...) {
    stop(StageFailure{i, names[i], "unknown exception"});
  }
}

Pipeline::Pipeline(std::vector<std::unique_ptr<Executable>> stages, const Options& options)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  if (stages.empty()) throw Error("pipeline: needs at least one stage");
  for (size_t i = 0; i < stages.size(); ++i) {
    if (!stages[i]) throw Error("pipeline: stage " + std::to_string(i) + " is null");
  }
  if (options.queue_capacity == 0) throw Error("pipeline: queue_capacity must be at least 1");
  if (options.time_slice.count() < 0) throw Error("pipeline: time_slice must not be negative");
  if (!options.stage_names.empty() && options.stage_names.size() != stages.size()) {
    throw Error("pipeline: " + std::to_string(options.stage_names.size()) + " stage names for " +
                std::to_string(stages.size()) + " stages");
  }
  if (!options.stage_costs.empty()) {
    if (options.stage_costs.size() != stages.size()) {
      throw Error("pipeline: " + std::to_string(options.stage_costs.size()) + " stage costs for " +
                  std::to_string(stages.size()) + " stages");
    }
    for (size_t i = 0; i < stages.size(); ++i) {
      const double cost = options.stage_costs[i];
      if (!(cost > 0) || !std::isfinite(cost)) {
        std::ostringstream text;
        text << "pipeline: stage " << i << "'s cost " << cost << " is not a positive finite number";
        throw Error(text.str());
      }
    }
    m.nice_steps = pipeline_detail::nice_steps_for_costs(options.stage_costs);
  }
  if (!options.stage_cpus.empty() && options.stage_cpus.size() != stages.size()) {
    throw Error("pipeline: " + std::to_string(options.stage_cpus.size()) + " stage CPUs for " +
                std::to_string(stages.size()) + " stages");
  }
  m.cpus = options.stage_cpus;
  m.names = options.stage_names;
  m.names.resize(stages.size());
  m.stages = std::move(stages);
  m.capacity = options.queue_capacity;
  m.time_slice = options.time_slice;
  m.wire(options);
  m.start();
}

Pipeline::~Pipeline() = default;
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;

const std::vector<TensorSpec>& Pipeline::inputs() const {
  return impl_->inputs;
}
const std::vector<TensorSpec>& Pipeline::outputs() const {
  return impl_->outputs;
}
size_t Pipeline::stage_count() const {
  return impl_->stages.size();
}
size_t Pipeline::max_in_flight() const {
  const size_t n = impl_->stages.size();
  return (n + 1) * impl_->capacity + n;
}

void Pipeline::push(std::vector<TensorValue> inputs) {
  Impl& m = *impl_;
  m.throw_if_stopped();
  std::lock_guard lock(m.push_mutex);
  if (m.ended) throw Error("pipeline: push after push_end");
  if (inputs.size() != m.inputs.size()) {
    throw Error("pipeline: got " + std::to_string(inputs.size()) + " input values for " +
                std::to_string(m.inputs.size()) + " inputs");
  }
  for (size_t i = 0; i < inputs.size(); ++i) check_pushed(m.inputs[i], inputs[i], i);
  if (m.queues[0]->push(Frame{m.next_seq, std::move(inputs)}) != QueueStatus::kOk) {
    m.throw_stopped();
  }
  ++m.next_seq;
}

void Pipeline::push_end() {
  Impl& m = *impl_;
  m.throw_if_stopped();
  std::lock_guard lock(m.push_mutex);
  m.ended = true;
  m.queues[0]->close();
}

std::optional<std::vector<TensorValue>> Pipeline::pop() {
  Impl& m = *impl_;
  std::lock_guard lock(m.pop_mutex);
  if (m.out_ended) return std::nullopt;
  m.throw_if_stopped();
  Frame frame;
  switch (m.queues.back()->pop(frame)) {
    case QueueStatus::kOk:
      break;
    case QueueStatus::kClosed:
      m.out_ended = true;
      return std::nullopt;
    case QueueStatus::kAborted:
      m.throw_stopped();
  }
  if (frame.seq != m.next_out) {
    throw Error("pipeline: internal error: frame " + std::to_string(frame.seq) +
                " came out in place of frame " + std::to_string(m.next_out));
  }
  ++m.next_out;
  return std::move(frame.tensors);
}

void Pipeline::cancel() {
  impl_->stop(std::nullopt);
}

std::vector<StageStats> Pipeline::stats() const {
  std::vector<StageStats> all;
  for (size_t i = 0; i < impl_->stats.size(); ++i) {
    {
      std::lock_guard lock(impl_->stats[i]->mutex);
      all.push_back(impl_->stats[i]->stats);
    }
    all.back().input_queue_peak = impl_->queues[i]->peak();
  }
  return all;
}

std::optional<StageFailure> Pipeline::failure() const {
  std::lock_guard lock(impl_->state_mutex);
  return impl_->failure;
}

std::vector<std::vector<TensorValue>> run_pipeline(
    Pipeline& pipeline, std::vector<std::vector<TensorValue>> frames,
    std::vector<std::chrono::steady_clock::time_point>* popped) {
  std::vector<std::vector<TensorValue>> results;
  results.reserve(frames.size());
  if (popped) {
    popped->clear();
    popped->reserve(frames.size());
  }
  // The first error is the cause: the other thread's, if any, comes from the cancel() after it.
  std::mutex error_mutex;
  std::exception_ptr first_error;
  auto fail = [&](std::exception_ptr error) {
    {
      std::lock_guard lock(error_mutex);
      if (!first_error) first_error = std::move(error);
    }
    pipeline.cancel();
  };
  std::thread producer([&] {
    size_t i = 0;
    try {
      for (; i < frames.size(); ++i) pipeline.push(std::move(frames[i]));
      pipeline.push_end();
    } catch (const Error& e) {
      fail(pipeline.failure()
               ? std::current_exception()
               : std::make_exception_ptr(Error("frame " + std::to_string(i) + ": " + e.what())));
    } catch (...) {
      fail(std::current_exception());
    }
  });
  try {
    while (auto outputs = pipeline.pop()) {
      if (popped) popped->push_back(std::chrono::steady_clock::now());
      results.push_back(std::move(*outputs));
    }
  } catch (...) {
    fail(std::current_exception());
  }
  producer.join();
  if (first_error) std::rethrow_exception(first_error);
  return results;
}

}  // namespace pipecut
