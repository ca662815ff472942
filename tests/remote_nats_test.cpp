// Stage workers and their client over a NATS JetStream server of the test's own (127.0.0.1, a
// free port, a temporary store): results come back bit-exact with the local cascade and in order;
// a frame that makes a stage throw is failed with the stage's reason after the retries while the
// others arrive; a server whose message limit is below a stage's messages is refused at startup;
// the frame codec refuses short and foreign messages.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "pipecut/inputs.h"
#include "pipecut/pipeline.h"
#include "pipecut/remote.h"
#include "remote/frame_codec.h"
#include "remote/nats_session.h"
#include "support/nats_server.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

using testing::thread_cpus;

namespace fs = std::filesystem;
using testing::NatsServer;

// MobileNet v2 cut into 3 stages (about 1.2 MiB of weights each), written once per test run.
const fs::path& tree() {
  static const fs::path dir = [] {
    // One folder per process: ctest runs each case in a process of its own, several at once.
    const fs::path d = testing::fresh_dir("remote_tree_" + std::to_string(::getpid()));
    const auto r = testing::run_cli(
        "split " + testing::coral_model("mobilenet_v2_1.0_224_quant.tflite").string() + " -o " +
        (d / "tree").string() + " --max-size 1300KiB");
    if (r.status != 0) throw std::runtime_error("split failed: " + r.err);
    return d / "tree";
  }();
  return dir;
}

NatsOptions options_for(const NatsServer& server) {
  NatsOptions o;
  o.url = server.url();
  o.ack_wait = std::chrono::seconds(2);
  return o;
}

TEST(Remote, ServedTreeGivesTheLocalCascadeBitForBitInOrder) {
  const RemoteLayout layout = remote_layout(tree());
  ASSERT_EQ(layout.stages.size(), 3u);
  NatsServer server(testing::fresh_dir("remote_exact"));
  StageWorkers workers(layout, options_for(server), {});
  RemotePipeline client(layout, options_for(server));
  LocalCascade cascade(layout);
  std::vector<std::vector<TensorValue>> inputs, expected;
  for (uint64_t i = 0; i < 5; ++i) {
    inputs.push_back(random_inputs(layout.inputs, 40 + i));
    expected.push_back(cascade.run(inputs.back()));
  }
  constexpr uint64_t kFrames = 40;
  uint64_t pushed = 0, popped = 0;
  while (popped < kFrames) {
    while (pushed < kFrames && pushed - popped < 8) client.push(inputs[pushed++ % inputs.size()]);
    const auto r = client.pop(std::chrono::seconds(60));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->frame, popped);  // in push order
    ASSERT_FALSE(r->failed) << r->reason;
    const auto& want = expected[popped % expected.size()];
    ASSERT_EQ(r->outputs.size(), want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      EXPECT_EQ(r->outputs[k].name, want[k].name);
      EXPECT_EQ(r->outputs[k].data, want[k].data) << "frame " << popped;
    }
    ++popped;
  }
  EXPECT_FALSE(client.pop(std::chrono::seconds(1)));  // every pushed frame was popped
  const RemoteStats st = client.stats();
  EXPECT_EQ(st.results, kFrames);
  EXPECT_EQ(st.failed, 0u);
  // Each stage ran each frame once. A worker counts a frame just after its publish, so the last
  // counts may trail the client's last result by a moment.
  uint64_t ran = 0;
  for (int wait = 0; wait < 100; ++wait) {
    ran = 0;
    for (const auto& w : workers.stats()) ran += w.frames;
    if (ran >= 3 * kFrames) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(ran, 3 * kFrames);  // more only if a frame outwaited the ack wait on a busy machine
  EXPECT_EQ(ran - 3 * kFrames, st.redelivered);
}

TEST(Remote, FrameThatMakesAStageThrowIsFailedAfterItsRetriesAndTheOthersArrive) {
  const RemoteLayout layout = remote_layout(tree());
  NatsServer server(testing::fresh_dir("remote_throw"));
  NatsOptions nats = options_for(server);
  nats.max_attempts = 2;
  StageWorkers::Options wo;
  wo.before_run = [](int stage, uint64_t frame) {
    if (stage == 2 && frame == 5) throw Error("injected fault");
  };
  StageWorkers workers(layout, nats, wo);
  RemotePipeline client(layout, nats);
  LocalCascade cascade(layout);
  const auto input = random_inputs(layout.inputs, 9);
  const auto want = cascade.run(input);
  for (int i = 0; i < 12; ++i) client.push(input);
  for (uint64_t i = 0; i < 12; ++i) {
    const auto r = client.pop(std::chrono::seconds(60));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->frame, i);
    if (i == 5) {
      EXPECT_TRUE(r->failed);
      EXPECT_NE(r->reason.find("stage 2 (seg2"), std::string::npos) << r->reason;
      EXPECT_NE(r->reason.find("injected fault"), std::string::npos) << r->reason;
      EXPECT_TRUE(r->outputs.empty());
    } else {
      ASSERT_FALSE(r->failed) << r->reason;
      EXPECT_EQ(r->outputs[0].data, want[0].data);
    }
  }
  EXPECT_EQ(client.stats().failed, 1u);
  EXPECT_EQ(workers.stats()[1].failed_attempts, 2u);  // the first delivery and one retry
}

// A worker that holds a frame past the acknowledgement wait (as a dead or stalled one does) loses
// it to the stage's other worker; both publish it on, JetStream drops the second copy by its
// message id, and the client gets the frame once, counted as redelivered.
TEST(Remote, AFrameHeldPastTheAckWaitGoesToAnotherWorkerAndArrivesOnce) {
  const RemoteLayout layout = remote_layout(tree());
  NatsServer server(testing::fresh_dir("remote_redeliver"));
  NatsOptions nats = options_for(server);
  nats.ack_wait = std::chrono::seconds(1);
  std::atomic<int> held{0};
  StageWorkers::Options wo;
  wo.workers = 2;
  wo.before_run = [&held](int stage, uint64_t frame) {
    if (stage == 2 && frame == 3 && held++ == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  };
  StageWorkers workers(layout, nats, wo);
  RemotePipeline client(layout, nats);
  LocalCascade cascade(layout);
  const auto input = random_inputs(layout.inputs, 11);
  const auto want = cascade.run(input);
  for (int i = 0; i < 8; ++i) client.push(input);
  for (uint64_t i = 0; i < 8; ++i) {
    const auto r = client.pop(std::chrono::seconds(60));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->frame, i);
    ASSERT_FALSE(r->failed) << r->reason;
    EXPECT_EQ(r->outputs[0].data, want[0].data);
    if (i == 3) {
      EXPECT_GE(r->redelivered, 1u);
    }
  }
  EXPECT_EQ(held.load(), 2);  // the frame reached stage 2 twice
  // The stalled worker's late copy is dropped by JetStream (same message id), or by the client.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_FALSE(client.pop(std::chrono::seconds(1)));
  EXPECT_EQ(client.stats().results, 8u);
}

// Weighed workers (several stages' workers sharing the cores) run each stage's frames at a nice
// value one step higher per factor of 1.25 its work (multiply-accumulates, and 10^8 of them for
// the hop) is below the costliest stage's; equal workers all keep the process's own.
TEST(Remote, WeighedWorkersTakeNiceStepsByTheirStagesWork) {
  const RemoteLayout layout = remote_layout(tree());
  std::vector<double> macs;
  for (const auto& stage : layout.stages) {
    int64_t sum = 0;
    for (int64_t m : op_macs(Model::load(stage.file))) sum += m;
    macs.push_back(static_cast<double>(sum) + 1e8);  // and the hop, as 10^8 of them
  }
  const double costliest = *std::max_element(macs.begin(), macs.end());
  errno = 0;
  const int base = getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  ASSERT_EQ(errno, 0);
  NatsServer server(testing::fresh_dir("remote_weights"));
  for (const auto weights :
       {StageWorkers::Options::Weights::kMacs, StageWorkers::Options::Weights::kEqual,
        StageWorkers::Options::Weights::kAuto}) {
    std::mutex mutex;
    std::map<int, int> seen;  // stage -> the nice value its frames ran at
    StageWorkers::Options wo;
    wo.weights = weights;
    wo.before_run = [&](int stage, uint64_t) {
      const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
      const std::lock_guard lock(mutex);
      seen[stage] = nice;
    };
    StageWorkers workers(layout, options_for(server), wo);
    const bool weighed = weights == StageWorkers::Options::Weights::kMacs ||
                         (weights == StageWorkers::Options::Weights::kAuto &&
                          static_cast<int>(layout.stages.size()) > usable_cores());
    const std::vector<int> steps = workers.nice_steps();
    ASSERT_EQ(steps.size(), layout.stages.size());
    RemotePipeline client(layout, options_for(server));
    client.push(random_inputs(layout.inputs, 3));
    const auto r = client.pop(std::chrono::seconds(60));
    ASSERT_TRUE(r);
    ASSERT_FALSE(r->failed) << r->reason;
    for (size_t i = 0; i < steps.size(); ++i) {
      // Within a step: the weights count ops without MACs too.
      const int want = weighed ? std::min(19, static_cast<int>(std::lround(
                                                  std::log(costliest / macs[i]) / std::log(1.25))))
                               : 0;
      EXPECT_NEAR(steps[i], want, 1) << "stage " << i + 1;
      const std::lock_guard lock(mutex);
      ASSERT_TRUE(seen.count(static_cast<int>(i) + 1)) << "stage " << i + 1 << " ran no frame";
      EXPECT_EQ(seen[static_cast<int>(i) + 1], std::min(19, base + steps[i])) << "stage " << i + 1;
    }
    if (weighed) {
      EXPECT_EQ(*std::min_element(steps.begin(), steps.end()), 0) << "the costliest stage";
      EXPECT_GT(*std::max_element(steps.begin(), steps.end()), 0) << "unequal stages";
    }
  }
}

// Pinned workers run each frame bound to the CPU the plan for the whole tree gives their stage,
// so a process serving one stage places it as one serving all does; unpinned ones run anywhere.
// With two workers per stage, a stage's workers are on different CPUs, each running its frames
// bound to its own.
TEST(Remote, PinnedWorkersRunOnTheCpuTheTreesPlanGivesTheirStage) {
  const RemoteLayout layout = remote_layout(tree());
  const std::vector<int> allowed = thread_cpus();
  NatsServer server(testing::fresh_dir("remote_pin"));
  std::vector<std::vector<int>> planned;  // per stage, from the process serving every stage
  struct Round {
    std::vector<int> stages;
    bool pin;
    int workers;
  };
  for (const Round& round : std::vector<Round>{
           {{}, true, 1}, {{2}, true, 1}, {{}, false, 1}, {{}, true, 2}, {{2}, true, 2}}) {
    SCOPED_TRACE(std::string(round.pin ? "pinned" : "unpinned") + ", " +
                 std::to_string(round.stages.size()) + " stage(s) named, " +
                 std::to_string(round.workers) + " worker(s) each");
    std::mutex mutex;
    std::map<int, std::set<std::vector<int>>> seen;  // stage -> the CPU sets its frames ran on
    StageWorkers::Options wo;
    wo.stages = round.stages;
    wo.pin = round.pin;
    wo.workers = round.workers;
    wo.before_run = [&](int stage, uint64_t) {
      const std::vector<int> cpus = thread_cpus();
      const std::lock_guard lock(mutex);
      seen[stage].insert(cpus);
    };
    StageWorkers workers(layout, options_for(server), wo);
    const std::vector<std::vector<int>> cpus = workers.cpus();
    ASSERT_EQ(cpus.size(), round.stages.empty() ? layout.stages.size() : round.stages.size());
    for (const auto& stage : cpus) ASSERT_EQ(stage.size(), static_cast<size_t>(round.workers));
    if (round.pin && round.stages.empty()) planned = cpus;
    // With stage 2 alone nobody serves stages 1 and 3: push only where all are served.
    if (!round.stages.empty()) {
      EXPECT_EQ(cpus[0], planned.at(1)) << "stage 2 alone is placed as among all";
      continue;
    }
    // Every CPU the plan uses, and every CPU set frames ran on so far.
    std::set<std::vector<int>> planned_cpus;
    for (const auto& stage : cpus)
      for (int cpu : stage) planned_cpus.insert({cpu});
    const auto ran_on = [&] {
      const std::lock_guard lock(mutex);
      std::set<std::vector<int>> out;
      for (const auto& [stage, sets] : seen) out.insert(sets.begin(), sets.end());
      return out;
    };
    RemotePipeline client(layout, options_for(server));
    // With two workers per stage, batches of frames until each worker took some (JetStream hands
    // frames to the waiting requests in turn, so the first batch almost always does).
    const int frames = round.workers == 1 ? 1 : 24;
    for (int batch = 0; batch < (round.workers == 1 ? 1 : 10); ++batch) {
      for (int f = 0; f < frames; ++f) client.push(random_inputs(layout.inputs, 5));
      for (int f = 0; f < frames; ++f) {
        const auto r = client.pop(std::chrono::seconds(60));
        ASSERT_TRUE(r);
        ASSERT_FALSE(r->failed) << r->reason;
      }
      if (!round.pin || ran_on() == planned_cpus) break;
    }
    const std::set<std::vector<int>> ran = ran_on();  // before the lock below, which it takes
    const std::lock_guard lock(mutex);
    for (size_t i = 0; i < cpus.size(); ++i) {
      const int stage = static_cast<int>(i) + 1;
      ASSERT_TRUE(seen.count(stage)) << "stage " << stage << " ran no frame";
      if (!round.pin) {
        EXPECT_EQ(cpus[i], std::vector<int>{-1});
        EXPECT_EQ(seen[stage], std::set<std::vector<int>>{allowed}) << "stage " << stage;
        continue;
      }
      std::set<std::vector<int>> bound;  // each worker's one CPU
      for (int cpu : cpus[i]) {
        EXPECT_NE(std::find(allowed.begin(), allowed.end(), cpu), allowed.end());
        bound.insert({cpu});
      }
      // Every frame ran bound to one of the stage's planned CPUs.
      for (const auto& ran : seen[stage])
        EXPECT_TRUE(bound.count(ran)) << "stage " << stage << " ran on CPUs it was not given";
      if (round.workers == 2 && allowed.size() >= 2) {
        EXPECT_EQ(bound.size(), 2u) << "stage " << stage << "'s two workers share a CPU";
      }
    }
    if (round.pin && round.workers == 2 && allowed.size() >= 2) {
      // Each worker runs bound to its own CPU: frames ran on every CPU the plan uses (a second
      // worker bound to its first one's CPU would leave a planned CPU unused; with two CPUs
      // every stage's first worker is on the first).
      EXPECT_EQ(ran, planned_cpus);
    }
    if (round.pin && round.workers == 1 && allowed.size() >= 2) {  // costliest ones apart
      std::set<int> used;
      for (const auto& stage : cpus) used.insert(stage[0]);
      EXPECT_NE(used.size(), 1u);
    }
  }
  // A worker's helper threads would share its one core: refused in one line.
  StageWorkers::Options threaded;
  threaded.pin = true;
  threaded.threads = 2;
  try {
    StageWorkers workers(layout, options_for(server), threaded);
    FAIL() << "--pin with 2 threads per worker was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--pin"), std::string::npos) << e.what();
  }
}

// Each worker keeps at most two pull requests waiting on the server, also after the server was
// away for longer than a request lives (requests sent while disconnected would pile up).
TEST(Remote, WorkersKeepAtMostTwoPullRequestsOutAcrossAServerRestart) {
  const RemoteLayout layout = remote_layout(tree());
  NatsServer server(testing::fresh_dir("remote_requests"));
  const NatsOptions nats = options_for(server);
  StageWorkers workers(layout, nats, {});
  const auto waiting = [&] {
    remote::NatsSession session(nats, "pipecut-test-probe", std::chrono::seconds(20));
    std::vector<int64_t> counts;
    for (const auto& stage : layout.stages) {
      jsConsumerInfo* info = nullptr;
      remote::check(js_GetConsumerInfo(&info, session.jetstream(), stage.stream.c_str(), "stage",
                                       nullptr, nullptr),
                    "consumer info");
      counts.push_back(info->NumWaiting);
      jsConsumerInfo_Destroy(info);
    }
    return counts;
  };
  {
    RemotePipeline client(layout, nats);
    client.push(random_inputs(layout.inputs, 5));
    ASSERT_TRUE(client.pop(std::chrono::seconds(60)));
  }
  for (int64_t n : waiting()) EXPECT_LE(n, 2);
  server.stop();
  std::this_thread::sleep_for(std::chrono::seconds(8));  // longer than a request's 5 s + 1 s
  server.start();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the workers reconnect and ask again
  const auto after = waiting();
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_GE(after[i], 1) << "stage " << i + 1 << " asks for nothing";
    EXPECT_LE(after[i], 2) << "stage " << i + 1;
  }
  RemotePipeline client(layout, nats);  // and frames still pass
  client.push(random_inputs(layout.inputs, 6));
  const auto r = client.pop(std::chrono::seconds(60));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->failed) << r->reason;
}

// A server restarted without its in-memory streams: the workers, whose pull requests now expire
// without even a 408 (the server's JetStream API takes requests for consumers it does not have
// without a word), make their stream and consumer again rather than wait forever, and a new
// client's frames pass.
TEST(Remote, WorkersRemakeTheQueuesARestartedServerLostFromMemory) {
  const RemoteLayout layout = remote_layout(tree());
  NatsServer server(testing::fresh_dir("remote_memory_restart"));
  NatsOptions nats = options_for(server);
  nats.memory_storage = true;
  StageWorkers workers(layout, nats, {});
  {
    RemotePipeline client(layout, nats);
    client.push(random_inputs(layout.inputs, 7));
    ASSERT_TRUE(client.pop(std::chrono::seconds(60)));
  }
  server.stop();
  server.start();
  // Every stage's consumer is back before any client makes the streams again.
  remote::NatsSession probe(nats, "pipecut-test-probe", std::chrono::seconds(20));
  const auto consumers = [&] {
    int found = 0;
    for (const auto& stage : layout.stages) {
      jsConsumerInfo* info = nullptr;
      if (js_GetConsumerInfo(&info, probe.jetstream(), stage.stream.c_str(), "stage", nullptr,
                             nullptr) == NATS_OK) {
        ++found;
        jsConsumerInfo_Destroy(info);
      }
    }
    return found;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (consumers() < static_cast<int>(layout.stages.size()) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(consumers(), static_cast<int>(layout.stages.size()));
  RemotePipeline client(layout, nats);
  const std::vector<TensorValue> input = random_inputs(layout.inputs, 8);
  client.push(input);
  const auto r = client.pop(std::chrono::seconds(60));
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->failed) << r->reason;
  const auto want = LocalCascade(layout).run(input);
  ASSERT_EQ(r->outputs.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) EXPECT_EQ(r->outputs[k].data, want[k].data);
}

// A stage that passes its one tensor on under the next name (Options::make_stage's use: the
// transport alone, as bench/bench_remote.cpp measures it).
class Relay : public Executable {
 public:
  Relay(int stage, int32_t bytes)
      : in_{{"t" + std::to_string(stage - 1), DType::kInt8, {1, bytes}, {}}},
        out_{{"t" + std::to_string(stage), DType::kInt8, {1, bytes}, {}}} {}
  const std::vector<TensorSpec>& inputs() const override { return in_; }
  const std::vector<TensorSpec>& outputs() const override { return out_; }
  std::vector<TensorValue> run(const std::vector<TensorValue>& in) override {
    TensorValue v = in.at(0);
    v.name = out_[0].name;
    for (uint8_t& b : v.data) b = static_cast<uint8_t>(b + 1);  // each stage leaves its mark
    return {std::move(v)};
  }
  std::string backend() const override { return "relay"; }

 private:
  std::vector<TensorSpec> in_, out_;
};

// Executables of the caller's own on a layout without stage files, weighed by MACs: the stages
// weigh the same (their hop alone) and the frames pass every stage, in order.
constexpr int kStages = 4;
constexpr int32_t kBytes = 70000;  // above the server's 64 KiB read buffer: split reads
TEST(Remote, CallersOwnExecutablesServeALayoutWithoutFiles) {
  RemoteLayout layout;
  layout.id = "relay" + std::to_string(::getpid());
  for (int s = 1; s <= kStages; ++s) {
    RemoteLayout::Stage st;
    st.forwards = {"t" + std::to_string(s)};
    st.largest_message = kBytes + 1024;
    layout.stages.push_back(st);
  }
  layout.inputs = {{"t0", DType::kInt8, {1, kBytes}, {}}};
  layout.outputs = {{"t" + std::to_string(kStages), DType::kInt8, {1, kBytes}, {}}};
  layout.name_queues();
  NatsServer server(testing::fresh_dir("remote_relay"));
  StageWorkers::Options wo;
  wo.weights = StageWorkers::Options::Weights::kMacs;
  wo.make_stage = [](int s) { return std::make_unique<Relay>(s, kBytes); };
  StageWorkers workers(layout, options_for(server), wo);
  EXPECT_EQ(workers.nice_steps(), std::vector<int>(kStages, 0));
  RemotePipeline client(layout, options_for(server));
  for (int f = 0; f < 6; ++f) {
    TensorValue v{"t0", DType::kInt8, {1, kBytes}, {}, std::vector<uint8_t>(kBytes)};
    for (int32_t i = 0; i < kBytes; ++i)
      v.data[static_cast<size_t>(i)] = static_cast<uint8_t>(i + f);
    client.push({v});
  }
  for (uint64_t f = 0; f < 6; ++f) {
    const auto r = client.pop(std::chrono::seconds(60));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->frame, f);
    ASSERT_FALSE(r->failed) << r->reason;
    ASSERT_EQ(r->outputs.size(), 1u);
    ASSERT_EQ(r->outputs[0].data.size(), static_cast<size_t>(kBytes));
    for (int32_t i : {0, 1, kBytes / 2, kBytes - 1})
      EXPECT_EQ(r->outputs[0].data[static_cast<size_t>(i)], static_cast<uint8_t>(i + f + kStages))
          << "frame " << f << " byte " << i;
  }
}

TEST(Remote, MessagesAboveTheServersLimitAreRefusedAtStartup) {
  const RemoteLayout layout = remote_layout(tree());
  // Stage 1 sends a 7x7x... feature map of several KiB; the client sends a 150 KiB picture.
  NatsServer server(testing::fresh_dir("remote_limit"), "max_payload: 4096");
  try {
    StageWorkers workers(layout, options_for(server), {});
    FAIL() << "the workers started";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("above the server's limit of 4096 bytes"),
              std::string::npos)
        << e.what();
  }
  try {
    RemotePipeline client(layout, options_for(server));
    FAIL() << "the client started";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exceed the server's limit of 4096 bytes"),
              std::string::npos)
        << e.what();
  }
}

TEST(RemoteCodec, RoundTripsAndRefusesShortOrForeignMessages) {
  remote::Frame f;
  f.number = 77;
  TensorValue t;
  t.name = "conv/out";
  t.type = DType::kInt8;
  t.shape = {1, 2, 2, 3};
  t.quant.scale = {0.5f, 0.25f};
  t.quant.zero_point = {-3, 4};
  t.quant.axis = 3;
  t.data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  f.tensors = {t, t};
  f.tensors[1].name = "second";
  const auto bytes = remote::encode_frame(f);
  const remote::Frame back = remote::decode_frame(bytes);
  EXPECT_EQ(back.number, 77u);
  ASSERT_EQ(back.tensors.size(), 2u);
  EXPECT_EQ(back.tensors[0].name, "conv/out");
  EXPECT_EQ(back.tensors[1].name, "second");
  EXPECT_EQ(back.tensors[0].shape, t.shape);
  EXPECT_EQ(back.tensors[0].quant, t.quant);
  EXPECT_EQ(back.tensors[1].data, t.data);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_THROW(remote::decode_frame(std::span<const uint8_t>(bytes.data(), cut)), Error)
        << "cut at " << cut;
  }
  auto foreign = bytes;
  foreign[0] ^= 0xff;
  EXPECT_THROW(remote::decode_frame(foreign), Error);
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_THROW(remote::decode_frame(longer), Error);
}

}  // namespace
}  // namespace pipecut
