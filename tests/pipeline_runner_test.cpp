// The pipeline runner with fake stages: many frames through many stages come back exactly once,
// in order, with the right values and the passed-through tensors intact; the queues bound how
// far a producer gets ahead; a stage failure surfaces at push and pop with the stage and its
// reason; cancel() wakes blocked callers; destruction with frames in flight returns and frees
// everything. No assertion depends on timing: waits are on counters, and a watchdog aborts the
// test (instead of hanging until the ctest timeout) if something blocks for a minute.
#include <gtest/gtest.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pipecut/error.h"
#include "pipecut/pipeline.h"
#include "pipeline/bounded_queue.h"
#include "pipeline/stage_weight.h"
#include "pipeline/time_slice.h"
#include "support/pipeline_fakes.h"

namespace pipecut {
namespace {

// Aborts the process if it is still alive `limit` after construction: a hang becomes a failure
// with a message. Uses system_clock, so the wait is a pthread_cond_timedwait that TSan knows.
class Watchdog {
 public:
  explicit Watchdog(const char* what, std::chrono::seconds limit = std::chrono::seconds(60))
      : thread_([this, what, limit] {
          std::unique_lock lock(mutex_);
          const auto deadline = std::chrono::system_clock::now() + limit;
          if (!cv_.wait_until(lock, deadline, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: %s did not finish in %lld s\n", what,
                         static_cast<long long>(limit.count()));
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

// A count that other threads can wait on.
class Counter {
 public:
  void add() {
    {
      std::lock_guard lock(mutex_);
      ++value_;
    }
    cv_.notify_all();
  }
  uint64_t value() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  void wait_for_at_least(uint64_t n) const {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return value_ >= n; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  uint64_t value_ = 0;
};

// Closed until open() is called.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

using testing::names;
using testing::tensor_value;
using testing::with_capacity;

TensorSpec spec(const std::string& name) {
  return testing::tensor_spec(name, {1, 4});
}

// Frame i's input: the 4 little-endian bytes of i, each plus `delta` (mod 256). Distinct frames
// stay distinct after any delta, so equality with frame_bytes(i, d) checks order and identity.
std::vector<uint8_t> frame_bytes(uint32_t i, int delta = 0) {
  std::vector<uint8_t> b(4);
  for (int k = 0; k < 4; ++k) b[k] = static_cast<uint8_t>((i >> (8 * k)) + delta);
  return b;
}

// `v` renamed, every byte plus `delta`.
TensorValue plus(const TensorValue& v, const std::string& name, int delta) {
  TensorValue r = v;
  r.name = name;
  for (uint8_t& b : r.data) b = static_cast<uint8_t>(b + delta);
  return r;
}

using RunFn = std::function<std::vector<TensorValue>(const std::vector<TensorValue>&, uint64_t)>;

// A stage that calls `fn(inputs, call index)`. Counts its calls and, if asked, its destruction.
class FakeStage : public Executable {
 public:
  FakeStage(std::vector<TensorSpec> in, std::vector<TensorSpec> out, RunFn fn,
            std::shared_ptr<std::atomic<int>> destroyed = nullptr)
      : in_(std::move(in)), out_(std::move(out)), fn_(std::move(fn)), destroyed_(destroyed) {}
  ~FakeStage() override {
    if (destroyed_) ++*destroyed_;
  }
  const std::vector<TensorSpec>& inputs() const override { return in_; }
  const std::vector<TensorSpec>& outputs() const override { return out_; }
  std::vector<TensorValue> run(const std::vector<TensorValue>& inputs) override {
    return fn_(inputs, calls_++);
  }
  std::string backend() const override { return "fake"; }

 private:
  std::vector<TensorSpec> in_, out_;
  RunFn fn_;
  std::shared_ptr<std::atomic<int>> destroyed_;
  uint64_t calls_ = 0;  // only the stage's worker thread touches it
};

// in -> out, every byte plus one; `before(call)` runs first (to wait, sleep or throw).
std::unique_ptr<Executable> add_one(const std::string& in, const std::string& out,
                                    std::function<void(uint64_t)> before = nullptr,
                                    std::shared_ptr<std::atomic<int>> destroyed = nullptr) {
  return std::make_unique<FakeStage>(
      std::vector{spec(in)}, std::vector{spec(out)},
      [out, before](const std::vector<TensorValue>& v, uint64_t call) {
        if (before) before(call);
        return std::vector{plus(v.at(0), out, 1)};
      },
      destroyed);
}

// x -> t1 -> ... -> tN, each stage adding one.
std::vector<std::unique_ptr<Executable>> add_chain(
    int n, std::function<void(int, uint64_t)> before = {},
    std::shared_ptr<std::atomic<int>> destroyed = {}) {
  std::vector<std::unique_ptr<Executable>> stages;
  for (int i = 0; i < n; ++i) {
    std::function<void(uint64_t)> hook;
    if (before) hook = [before, i](uint64_t call) { before(i, call); };
    stages.push_back(add_one(i == 0 ? "x" : "t" + std::to_string(i), "t" + std::to_string(i + 1),
                             hook, destroyed));
  }
  return stages;
}

std::vector<TensorValue> input_frame(uint32_t i) {
  return {tensor_value("x", frame_bytes(i))};
}

// Throws if the two values differ, so a stage can check what reached it.
void expect_bytes(const TensorValue& v, const std::vector<uint8_t>& bytes, const char* what) {
  if (v.data != bytes) throw std::logic_error(std::string(what) + " arrived altered");
}

// The 7-stage graph of the big test:
//   0: x -> t1      1: t1 -> t2, side (= t1)      2: t2 -> t3, early (= t2, read by no stage)
//   3: t3 -> t4     4: t4, side -> t5             5: t5 -> t6      6: t6, side -> t7
// "side" rides through stages 2, 3 and 5 and is read by 4 and 6; "early" rides to the end.
std::vector<std::unique_ptr<Executable>> seven_stages() {
  std::vector<std::unique_ptr<Executable>> s;
  s.push_back(add_one("x", "t1"));
  s.push_back(
      std::make_unique<FakeStage>(std::vector{spec("t1")}, std::vector{spec("t2"), spec("side")},
                                  [](const std::vector<TensorValue>& v, uint64_t) {
                                    return std::vector{plus(v[0], "t2", 1), plus(v[0], "side", 0)};
                                  }));
  s.push_back(
      std::make_unique<FakeStage>(std::vector{spec("t2")}, std::vector{spec("t3"), spec("early")},
                                  [](const std::vector<TensorValue>& v, uint64_t) {
                                    return std::vector{plus(v[0], "t3", 1), plus(v[0], "early", 0)};
                                  }));
  s.push_back(add_one("t3", "t4"));
  s.push_back(
      std::make_unique<FakeStage>(std::vector{spec("t4"), spec("side")}, std::vector{spec("t5")},
                                  [](const std::vector<TensorValue>& v, uint64_t) {
                                    expect_bytes(v[1], plus(v[0], "", -3).data, "side at stage 4");
                                    return std::vector{plus(v[0], "t5", 1)};
                                  }));
  s.push_back(add_one("t5", "t6"));
  s.push_back(
      std::make_unique<FakeStage>(std::vector{spec("t6"), spec("side")}, std::vector{spec("t7")},
                                  [](const std::vector<TensorValue>& v, uint64_t) {
                                    expect_bytes(v[1], plus(v[0], "", -5).data, "side at stage 6");
                                    return std::vector{plus(v[0], "t7", 1)};
                                  }));
  return s;
}

TEST(PipelineRunner, TenThousandFramesThroughSevenStagesInOrder) {
  Watchdog watchdog("10,000 frames");
  constexpr uint32_t kFrames = 10000;
  Pipeline pipeline(seven_stages(), with_capacity(2));
  ASSERT_EQ(names(pipeline.inputs()), (std::vector<std::string>{"x"}));
  ASSERT_EQ(names(pipeline.outputs()), (std::vector<std::string>{"early", "t7"}));

  std::thread producer([&] {
    try {
      for (uint32_t i = 0; i < kFrames; ++i) pipeline.push(input_frame(i));
      pipeline.push_end();
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
    }
  });
  uint32_t popped = 0;
  while (auto out = pipeline.pop()) {
    const bool right = out->size() == 2 && (*out)[0].name == "early" &&
                       (*out)[0].data == frame_bytes(popped, 2) && (*out)[1].name == "t7" &&
                       (*out)[1].data == frame_bytes(popped, 7);
    if (!right) {
      ADD_FAILURE() << "frame " << popped << " came out wrong";
      pipeline.cancel();  // wakes the producer
      break;
    }
    ++popped;
  }
  producer.join();
  EXPECT_EQ(popped, kFrames);
  EXPECT_FALSE(pipeline.pop().has_value());  // stays ended
  EXPECT_FALSE(pipeline.failure().has_value());

  const std::vector<StageStats> stats = pipeline.stats();
  ASSERT_EQ(stats.size(), 7u);
  for (const StageStats& s : stats) {
    EXPECT_EQ(s.frames, kFrames);
    EXPECT_LE(s.busy_min, s.busy_max);
    EXPECT_LE(s.busy_max, s.busy_total);
    EXPECT_GE(s.input_queue_peak, 1u);
    EXPECT_LE(s.input_queue_peak, 2u);
  }
}

// cpu_total counts what a stage's thread computes, not the time it sleeps: a stage that burns
// 1 ms of its own CPU time per frame has at least that, one that sleeps 2 ms has far less than
// its busy time. Neither can exceed busy_total.
TEST(PipelineRunner, CpuTimeCountsComputingNotSleeping) {
  Watchdog watchdog("cpu time");
  constexpr uint32_t kFrames = 20;
  const auto thread_cpu = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
  };
  std::vector<std::unique_ptr<Executable>> stages;
  stages.push_back(add_one("x", "t1", [&](uint64_t) {
    const auto start = thread_cpu();
    while (thread_cpu() - start < std::chrono::milliseconds(1)) {
    }
  }));
  stages.push_back(add_one(
      "t1", "t2", [](uint64_t) { std::this_thread::sleep_for(std::chrono::milliseconds(2)); }));
  Pipeline pipeline(std::move(stages));
  std::vector<std::vector<TensorValue>> frames;
  for (uint32_t i = 0; i < kFrames; ++i) frames.push_back(input_frame(i));
  ASSERT_EQ(run_pipeline(pipeline, std::move(frames)).size(), kFrames);
  const std::vector<StageStats> stats = pipeline.stats();
  ASSERT_EQ(stats.size(), 2u);
  for (const StageStats& st : stats) EXPECT_LE(st.cpu_total, st.busy_total);
  EXPECT_GE(stats[0].cpu_total, kFrames * std::chrono::milliseconds(1));
  EXPECT_GE(stats[1].busy_total, kFrames * std::chrono::milliseconds(2));
  EXPECT_LT(stats[1].cpu_total, stats[1].busy_total / 2);
}

// Each worker asks the kernel for Options::time_slice (0: keeps the slice it inherits). Checked
// where the kernel takes a slice per thread (Linux 6.12+), which a probe thread finds out.
TEST(PipelineRunner, WorkersAskForTheirTimeSlice) {
  using std::chrono::microseconds;
  PipelineOptions negative;  // refused on any kernel
  negative.time_slice = microseconds(-1);
  EXPECT_THROW(Pipeline(add_chain(1), negative), Error);
  bool kept = false;  // whether the kernel reports the slice a fresh thread asks for
  std::thread([&] { kept = pipeline_detail::request_time_slice(microseconds(7'000)); }).join();
  if (!kept) GTEST_SKIP() << "this kernel keeps no time slice per thread (Linux before 6.12)";
  const microseconds inherited = pipeline_detail::current_time_slice();
  ASSERT_GT(inherited.count(), 0);
  for (const microseconds slice : {microseconds(20'000), microseconds(3'000), microseconds(0)}) {
    Watchdog watchdog("time slice");
    std::atomic<int64_t> seen{-1};
    std::vector<std::unique_ptr<Executable>> stages;
    stages.push_back(add_one(
        "x", "t1", [&](uint64_t) { seen = pipeline_detail::current_time_slice().count(); }));
    PipelineOptions options;
    options.time_slice = slice;
    Pipeline pipeline(std::move(stages), options);
    ASSERT_EQ(run_pipeline(pipeline, {input_frame(0)}).size(), 1u);
    EXPECT_EQ(seen.load(), (slice.count() > 0 ? slice : inherited).count());
  }
}

// One nice step per factor of 1.25 below the costliest stage (Linux's weight ratio per step),
// rounded; the costliest keeps 0 and nothing goes past 19.
TEST(PipelineRunner, StageCostsGiveNiceSteps) {
  using pipeline_detail::nice_steps_for_costs;
  // ResNet-101's seven 7 MiB segments alone, in ms (docs/pipeline-api.md).
  EXPECT_EQ(nice_steps_for_costs({7.792, 3.400, 3.384, 3.381, 1.457, 0.652, 0.720}),
            (std::vector<int>{0, 4, 4, 4, 8, 11, 11}));
  EXPECT_EQ(nice_steps_for_costs({1.0, 1.25, 1.25 * 1.25}), (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(nice_steps_for_costs({5.0, 5.0}), (std::vector<int>{0, 0}));
  EXPECT_EQ(nice_steps_for_costs({1e6, 1.0}), (std::vector<int>{0, 19}));
}

// A thread whose policy carries SCHED_RESET_ON_FORK (which any thread may set on itself) is still
// a SCHED_OTHER thread, and its nice still sets its weight.
TEST(PipelineRunner, ResetOnForkThreadsAreRaisedToo) {
  int raised = -1, before = -100, after = -100;
  std::thread([&] {
    const sched_param param{};
    if (sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &param) != 0) return;
    before = pipeline_detail::thread_nice().value_or(-100);
    raised = pipeline_detail::raise_thread_nice(3);
    after = pipeline_detail::thread_nice().value_or(-100);
  }).join();
  ASSERT_NE(before, -100) << "the thread could not set SCHED_RESET_ON_FORK";
  if (before > 16) GTEST_SKIP() << "nice " << before << " leaves no room for 3 steps";
  EXPECT_EQ(raised, 3);
  EXPECT_EQ(after, before + 3);
}

// The nice value each stage's worker runs at, seen from inside run(), and the steps stats()
// reports, for a pipeline built on a thread whose nice is `start` (its workers inherit it).
struct NiceSeen {
  int start = 0;
  std::vector<int> in_run, raised;
  std::string error;  // what went wrong on the helper thread (which must not throw)
};

NiceSeen nice_in_pipeline(int start, const std::vector<double>& costs, bool weighted) {
  NiceSeen r;
  std::thread([&] {
    const std::optional<int> inherited = pipeline_detail::thread_nice();
    if (!inherited) {
      r.error = "the kernel does not tell the nice value";
      return;
    }
    // Raising needs no privilege; lowering may, so a start below the inherited nice stays there.
    if (start > *inherited) pipeline_detail::raise_thread_nice(start - *inherited);
    r.start = pipeline_detail::thread_nice().value_or(-100);
    std::vector<std::atomic<int>> seen(costs.size());
    for (auto& s : seen) s = -100;
    PipelineOptions options;
    if (weighted) options.stage_costs = costs;
    Pipeline pipeline(add_chain(static_cast<int>(costs.size()),
                                [&](int stage, uint64_t) {
                                  seen[static_cast<size_t>(stage)] =
                                      pipeline_detail::thread_nice().value_or(-100);
                                }),
                      options);
    try {
      if (run_pipeline(pipeline, {input_frame(0)}).size() != 1) r.error = "no frame came back";
    } catch (const std::exception& e) {
      r.error = e.what();
    }
    for (const auto& s : seen) r.in_run.push_back(s);
    for (const StageStats& s : pipeline.stats()) r.raised.push_back(s.nice_raised);
  }).join();
  return r;
}

// With Options::stage_costs each worker raises its own thread's nice value by its stage's steps,
// up to 19; without, every worker keeps the nice it inherits. The caller's thread is left alone.
TEST(PipelineRunner, WorkersLowerTheirWeightByStageCost) {
  Watchdog watchdog("stage weights");
  const std::optional<int> caller = pipeline_detail::thread_nice();
  ASSERT_TRUE(caller.has_value());
  const std::vector<double> costs = {8.0, 1.0, 8.0 / (1.25 * 1.25)};  // steps 0, 9, 2
  const std::vector<int> steps = {0, 9, 2};
  // At the inherited nice, and at 15, where stage 1's 9 steps stop at 19 after 4.
  for (const int start : {*caller, std::max(*caller, 15)}) {
    for (const bool weighted : {true, false}) {
      SCOPED_TRACE("start " + std::to_string(start) + (weighted ? ", weighted" : ", equal"));
      const NiceSeen r = nice_in_pipeline(start, costs, weighted);
      ASSERT_EQ(r.error, "");
      ASSERT_EQ(r.start, start);
      ASSERT_EQ(r.in_run.size(), costs.size());
      ASSERT_EQ(r.raised.size(), costs.size());
      for (size_t i = 0; i < costs.size(); ++i) {
        const int expected = weighted ? std::min(19, start + steps[i]) : start;
        EXPECT_EQ(r.in_run[i], expected) << "stage " << i;
        EXPECT_EQ(r.raised[i], expected - start) << "stage " << i;
      }
    }
  }
  EXPECT_EQ(pipeline_detail::thread_nice(), caller);
}

TEST(PipelineRunner, QueuesBoundHowFarTheProducerGetsAhead) {
  Watchdog watchdog("back-pressure");
  constexpr int kStages = 3;
  constexpr size_t kCapacity = 2;
  constexpr uint32_t kFrames = 200;
  // With the last stage holding frame 0, the producer can have pushed at most this many: every
  // queue before the last stage full, every other worker holding one frame, frame 0 itself.
  constexpr uint64_t kAhead = kStages * (kCapacity + 1);
  Counter pushed;
  std::atomic<int64_t> max_lead{0};
  std::atomic<bool> over_bound{false};
  auto before = [&](int stage, uint64_t call) {
    if (stage != kStages - 1) return;
    // Slow last stage: frame 0 waits until the producer is as far ahead as the queues allow. If
    // they allowed less, this would wait forever (and the watchdog would say so).
    if (call == 0) pushed.wait_for_at_least(kAhead);
    const int64_t lead = static_cast<int64_t>(pushed.value()) - static_cast<int64_t>(call);
    if (lead > static_cast<int64_t>(kAhead)) over_bound = true;  // frames pushed from this one on
    int64_t seen = max_lead.load();
    while (lead > seen && !max_lead.compare_exchange_weak(seen, lead)) {
    }
  };
  Pipeline pipeline(add_chain(kStages, before), with_capacity(kCapacity));
  EXPECT_EQ(pipeline.max_in_flight(), (kStages + 1) * kCapacity + kStages);

  std::thread producer([&] {
    try {
      for (uint32_t i = 0; i < kFrames; ++i) {
        pipeline.push(input_frame(i));
        pushed.add();
      }
      pipeline.push_end();
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
    }
  });
  uint32_t popped = 0;
  bool in_flight_ok = true;
  for (;;) {
    // Pushes accepted and not popped never exceed the documented bound (the counter lags the
    // accepted pushes, so it can only understate).
    if (pushed.value() > popped + pipeline.max_in_flight()) in_flight_ok = false;
    auto out = pipeline.pop();
    if (!out) break;
    if ((*out)[0].data != frame_bytes(popped, kStages)) {
      ADD_FAILURE() << "frame " << popped << " came out wrong";
      pipeline.cancel();
      break;
    }
    ++popped;
  }
  producer.join();
  EXPECT_EQ(popped, kFrames);
  EXPECT_FALSE(over_bound) << "producer got more than " << kAhead << " frames ahead";
  EXPECT_TRUE(in_flight_ok);
  EXPECT_EQ(max_lead.load(), static_cast<int64_t>(kAhead));
  // At that moment every queue in front of a stage was full, and none ever held more.
  for (const StageStats& s : pipeline.stats()) EXPECT_EQ(s.input_queue_peak, kCapacity);
}

TEST(PipelineRunner, StageErrorSurfacesAtPopAndPushWithStageAndReason) {
  Watchdog watchdog("stage error");
  constexpr uint32_t kFrames = 10000;
  std::shared_ptr<std::atomic<int>> destroyed = std::make_shared<std::atomic<int>>(0);
  auto before = [](int stage, uint64_t call) {
    if (stage == 3 && call == 500) throw Error("boom at frame 500");
  };
  auto pipeline = std::make_unique<Pipeline>(add_chain(7, before, destroyed), [] {
    Pipeline::Options options;
    options.stage_names = {"s0", "s1", "s2", "s3", "s4", "s5", "s6"};
    return options;
  }());

  std::string push_error;
  uint32_t pushed = 0;
  std::thread producer([&] {
    try {
      for (; pushed < kFrames; ++pushed) pipeline->push(input_frame(pushed));
      pipeline->push_end();
    } catch (const Error& e) {
      push_error = e.what();
    }
  });
  std::string pop_error;
  uint32_t popped = 0;
  try {
    while (auto out = pipeline->pop()) {
      EXPECT_EQ((*out)[0].data, frame_bytes(popped, 7)) << "frame " << popped;
      ++popped;
    }
  } catch (const Error& e) {
    pop_error = e.what();
  }
  producer.join();

  const std::string expected = "pipeline stage 3 (s3): boom at frame 500";
  EXPECT_EQ(pop_error, expected);
  EXPECT_EQ(push_error, expected);  // 10,000 frames cannot all fit: the producer must see it
  EXPECT_LE(popped, 500u);
  EXPECT_LE(pushed, 501 + pipeline->max_in_flight());
  ASSERT_TRUE(pipeline->failure().has_value());
  EXPECT_EQ(pipeline->failure()->stage, 3u);
  EXPECT_EQ(pipeline->failure()->name, "s3");
  EXPECT_EQ(pipeline->failure()->reason, "boom at frame 500");
  EXPECT_EQ(pipeline->stats()[3].frames, 500u);
  EXPECT_LE(pipeline->stats()[6].frames, 500u);
  // Sticky: every later call reports the same failure.
  EXPECT_THROW(pipeline->push(input_frame(0)), Error);
  EXPECT_THROW(pipeline->push_end(), Error);
  try {
    pipeline->pop();
    ADD_FAILURE() << "pop after a failure returned";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), expected);
  }
  pipeline.reset();
  EXPECT_EQ(destroyed->load(), 7);
}

TEST(PipelineRunner, ErrorReachesASingleThreadedCaller) {
  Watchdog watchdog("single-threaded error");
  Pipeline pipeline(add_chain(2, [](int stage, uint64_t) {
    if (stage == 1) throw Error("bad tensor");
  }));
  pipeline.push(input_frame(0));
  try {
    pipeline.pop();  // blocks until the failure stops the pipeline
    ADD_FAILURE() << "pop returned";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "pipeline stage 1: bad tensor");
  }
  try {
    pipeline.push(input_frame(1));
    ADD_FAILURE() << "push returned";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "pipeline stage 1: bad tensor");
  }
}

TEST(PipelineRunner, ProducerAloneSeesTheError) {
  Watchdog watchdog("producer-only error");
  Pipeline pipeline(add_chain(3,
                              [](int stage, uint64_t) {
                                if (stage == 0) throw Error("first frame fails");
                              }),
                    with_capacity(2));
  // Stage 0 fails on frame 0, so at most frame 0 and a full first queue are ever accepted.
  size_t accepted = 0;
  try {
    for (;; ++accepted) pipeline.push(input_frame(static_cast<uint32_t>(accepted)));
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "pipeline stage 0: first frame fails");
  }
  EXPECT_LE(accepted, 3u);
}

TEST(PipelineRunner, OtherExceptionsAndWrongResultsAreStageFailures) {
  Watchdog watchdog("other failures");
  auto failure_of = [](std::unique_ptr<Executable> stage) {
    std::vector<std::unique_ptr<Executable>> stages;
    stages.push_back(std::move(stage));
    Pipeline pipeline(std::move(stages));
    pipeline.push(input_frame(0));
    EXPECT_THROW(pipeline.pop(), Error);
    return pipeline.failure().value_or(StageFailure{}).reason;
  };
  const auto in = std::vector{spec("x")};
  const auto out = std::vector{spec("y")};
  EXPECT_EQ(
      failure_of(std::make_unique<FakeStage>(in, out,
                                             [](const auto&, uint64_t) -> std::vector<TensorValue> {
                                               throw std::out_of_range("index 9");
                                             })),
      "index 9");
  EXPECT_EQ(failure_of(std::make_unique<FakeStage>(
                in, out, [](const auto&, uint64_t) -> std::vector<TensorValue> { throw 42; })),
            "unknown exception");
  EXPECT_EQ(failure_of(std::make_unique<FakeStage>(
                in, out, [](const auto&, uint64_t) { return std::vector<TensorValue>{}; })),
            "run() returned 0 values for 1 outputs");
  EXPECT_EQ(failure_of(std::make_unique<FakeStage>(in, out,
                                                   [](const std::vector<TensorValue>& v, uint64_t) {
                                                     return std::vector{plus(v[0], "z", 0)};
                                                   })),
            "run() returned 'z' as output 0 'y'");
}

TEST(PipelineRunner, DestroyingWithFramesInFlightReturns) {
  std::shared_ptr<std::atomic<int>> destroyed = std::make_shared<std::atomic<int>>(0);
  {
    Watchdog watchdog("destroying a busy pipeline");
    auto pipeline = std::make_unique<Pipeline>(
        add_chain(
            7, [](int, uint64_t) { std::this_thread::sleep_for(std::chrono::microseconds(200)); },
            destroyed),
        with_capacity(2));
    // Exactly as many as fit without a pop: every push returns, and every queue fills up.
    const size_t n = pipeline->max_in_flight();
    for (size_t i = 0; i < n; ++i) pipeline->push(input_frame(static_cast<uint32_t>(i)));
    pipeline.reset();
  }
  EXPECT_EQ(destroyed->load(), 7);

  // The same right after the end of the stream, with nothing popped.
  destroyed->store(0);
  {
    Watchdog watchdog("destroying an ended pipeline");  // outlives the pipeline
    Pipeline pipeline(add_chain(7, {}, destroyed));
    for (uint32_t i = 0; i < 5; ++i) pipeline.push(input_frame(i));
    pipeline.push_end();
  }
  EXPECT_EQ(destroyed->load(), 7);
}

TEST(PipelineRunner, CancelWakesBlockedPushAndPop) {
  Watchdog watchdog("cancel");
  Gate gate;
  Counter entered;
  Pipeline pipeline(add_chain(2, [&](int stage, uint64_t) {
    if (stage != 1) return;
    entered.add();
    gate.wait();
  }));
  std::string push_error, pop_error;
  std::thread producer([&] {
    try {
      for (uint32_t i = 0;; ++i) pipeline.push(input_frame(i));
    } catch (const Error& e) {
      push_error = e.what();
    }
  });
  std::thread consumer([&] {
    try {
      while (pipeline.pop()) {
      }
    } catch (const Error& e) {
      pop_error = e.what();
    }
  });
  entered.wait_for_at_least(1);  // stage 1 holds frame 0: nothing reaches the consumer
  pipeline.cancel();
  producer.join();
  consumer.join();
  EXPECT_EQ(push_error, "pipeline cancelled");
  EXPECT_EQ(pop_error, "pipeline cancelled");
  EXPECT_FALSE(pipeline.failure().has_value());
  gate.open();  // let stage 1 leave run() so the destructor can join it
}

TEST(PipelineRunner, EndOfStreamWithZeroFrames) {
  Watchdog watchdog("empty stream");
  Pipeline pipeline(add_chain(4));
  pipeline.push_end();
  pipeline.push_end();  // idempotent
  EXPECT_FALSE(pipeline.pop().has_value());
  EXPECT_FALSE(pipeline.pop().has_value());
  for (const StageStats& s : pipeline.stats()) {
    EXPECT_EQ(s.frames, 0u);
    EXPECT_EQ(s.busy_min.count(), 0);
    EXPECT_EQ(s.input_queue_peak, 0u);
  }
  EXPECT_THROW(pipeline.push(input_frame(0)), Error);
}

TEST(PipelineRunner, RejectedPushesLeaveThePipelineRunning) {
  Watchdog watchdog("rejected pushes");
  Pipeline pipeline(add_chain(2));
  auto message = [&](std::vector<TensorValue> inputs) {
    try {
      pipeline.push(std::move(inputs));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message({}), "pipeline: got 0 input values for 1 inputs");
  EXPECT_EQ(message({tensor_value("y", frame_bytes(0))}),
            "pipeline input 0 'x': got a value named 'y'");
  TensorValue wrong_type = tensor_value("x", frame_bytes(0));
  wrong_type.type = DType::kUInt8;
  EXPECT_EQ(message({wrong_type}), "pipeline input 0 'x': expected INT8 [1,4], got UINT8 [1,4]");
  TensorValue wrong_shape = tensor_value("x", frame_bytes(0));
  wrong_shape.shape = {4};
  EXPECT_EQ(message({wrong_shape}), "pipeline input 0 'x': expected INT8 [1,4], got INT8 [4]");
  TensorValue short_data = tensor_value("x", {1, 2, 3});
  short_data.shape = {1, 4};
  EXPECT_EQ(message({short_data}), "pipeline input 0 'x': expected 4 bytes of data, got 3");
  EXPECT_EQ(message({tensor_value("", frame_bytes(7))}), "accepted");  // an empty name is filled in
  pipeline.push_end();
  auto out = pipeline.pop();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ((*out)[0].data, frame_bytes(7, 2));
  EXPECT_FALSE(pipeline.pop().has_value());
  EXPECT_EQ(message({tensor_value("x", frame_bytes(0))}), "pipeline: push after push_end");
}

TEST(PipelineRunner, RunPipelineReturnsOutputsInOrder) {
  Watchdog watchdog("run_pipeline");
  Pipeline pipeline(seven_stages(), with_capacity(3));
  std::vector<std::vector<TensorValue>> frames;
  for (uint32_t i = 0; i < 300; ++i) frames.push_back(input_frame(i));
  const auto results = run_pipeline(pipeline, std::move(frames));
  ASSERT_EQ(results.size(), 300u);
  for (uint32_t i = 0; i < 300; ++i) {
    ASSERT_EQ(results[i].at(0).data, frame_bytes(i, 2));
    ASSERT_EQ(results[i].at(1).data, frame_bytes(i, 7));
  }
}

// run_pipeline can note when each frame came out: once per frame, in order, within the call.
TEST(PipelineRunner, RunPipelineNotesWhenEachFrameCameOut) {
  Watchdog watchdog("run_pipeline timing");
  Pipeline pipeline(seven_stages(), with_capacity(2));
  std::vector<std::vector<TensorValue>> frames;
  for (uint32_t i = 0; i < 50; ++i) frames.push_back(input_frame(i));
  std::vector<std::chrono::steady_clock::time_point> popped(3);  // cleared by the call
  const auto before = std::chrono::steady_clock::now();
  const auto results = run_pipeline(pipeline, std::move(frames), &popped);
  const auto after = std::chrono::steady_clock::now();
  ASSERT_EQ(results.size(), 50u);
  ASSERT_EQ(popped.size(), 50u);
  EXPECT_GE(popped.front(), before);
  EXPECT_LE(popped.back(), after);
  EXPECT_TRUE(std::is_sorted(popped.begin(), popped.end()));
}

// The steady rate counts the gaps between outputs, not the wait for the first one.
TEST(PipelineRunner, SteadyThroughputIsOutputsOverTheirSpan) {
  using std::chrono::milliseconds;
  const std::chrono::steady_clock::time_point t0{std::chrono::seconds(100)};
  EXPECT_DOUBLE_EQ(
      steady_throughput({t0, t0 + milliseconds(10), t0 + milliseconds(20), t0 + milliseconds(40)}),
      3 / 0.040);
  EXPECT_DOUBLE_EQ(steady_throughput({t0 + milliseconds(500), t0 + milliseconds(750)}), 4.0);
  EXPECT_EQ(steady_throughput({}), 0.0);
  EXPECT_EQ(steady_throughput({t0}), 0.0);
  EXPECT_EQ(steady_throughput({t0, t0}), 0.0);
  EXPECT_DOUBLE_EQ(steady_throughput(5, t0, t0 + milliseconds(80)), 50.0);
  EXPECT_EQ(steady_throughput(1, t0, t0 + milliseconds(80)), 0.0);
}

TEST(PipelineRunner, RunPipelineReportsTheCause) {
  Watchdog watchdog("run_pipeline errors");
  {
    Pipeline pipeline(add_chain(3, [](int stage, uint64_t call) {
      if (stage == 2 && call == 40) throw Error("stage two broke");
    }));
    std::vector<std::vector<TensorValue>> frames;
    for (uint32_t i = 0; i < 100; ++i) frames.push_back(input_frame(i));
    try {
      run_pipeline(pipeline, std::move(frames));
      ADD_FAILURE() << "run_pipeline returned";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "pipeline stage 2: stage two broke");
    }
  }
  {
    Pipeline pipeline(add_chain(3));
    std::vector<std::vector<TensorValue>> frames;
    for (uint32_t i = 0; i < 100; ++i) frames.push_back(input_frame(i));
    frames[60][0].shape = {2, 2};
    try {
      run_pipeline(pipeline, std::move(frames));
      ADD_FAILURE() << "run_pipeline returned";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()),
                "frame 60: pipeline input 0 'x': expected INT8 [1,4], got INT8 [2,2]");
    }
    EXPECT_THROW(pipeline.pop(), Error);  // cancelled
  }
}

TEST(PipelineRunner, MovedPipelineKeepsRunning) {
  Watchdog watchdog("move");
  Pipeline first(add_chain(2));
  first.push(input_frame(1));
  Pipeline second(std::move(first));
  second.push(input_frame(2));
  second.push_end();
  EXPECT_EQ(second.pop().value()[0].data, frame_bytes(1, 2));
  EXPECT_EQ(second.pop().value()[0].data, frame_bytes(2, 2));
  EXPECT_FALSE(second.pop().has_value());
  Pipeline third(add_chain(1));
  third.push(input_frame(3));
  third = std::move(second);  // stops and joins the pipeline it replaces, frame and all
  EXPECT_FALSE(third.pop().has_value());
}

TEST(PipelineQueue, CloseDeliversQueuedItemsThenEnds) {
  BoundedQueue<int> q(2);
  EXPECT_EQ(q.push(1), QueueStatus::kOk);
  EXPECT_EQ(q.push(2), QueueStatus::kOk);
  q.close();
  int item = 0;
  EXPECT_EQ(q.pop(item), QueueStatus::kOk);
  EXPECT_EQ(item, 1);
  EXPECT_EQ(q.pop(item), QueueStatus::kOk);
  EXPECT_EQ(item, 2);
  EXPECT_EQ(q.pop(item), QueueStatus::kClosed);
  EXPECT_EQ(q.peak(), 2u);
}

TEST(PipelineQueue, AbortWakesABlockedPusher) {
  Watchdog watchdog("queue abort");
  BoundedQueue<int> q(1);
  ASSERT_EQ(q.push(1), QueueStatus::kOk);
  std::atomic<bool> started{false};
  QueueStatus status = QueueStatus::kOk;
  std::thread pusher([&] {
    started = true;
    status = q.push(2);  // full: blocks until the abort
  });
  while (!started) std::this_thread::yield();
  q.abort();
  pusher.join();
  EXPECT_EQ(status, QueueStatus::kAborted);
  int item = 0;
  EXPECT_EQ(q.pop(item), QueueStatus::kAborted);
}

}  // namespace
}  // namespace pipecut
