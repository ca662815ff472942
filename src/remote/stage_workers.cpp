// Stage workers: pull a frame, run the segment, publish what the later stages need, acknowledge.
#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "pipecut/error.h"
#include "pipecut/model.h"
#include "pipecut/network_plan.h"
#include "pipecut/pipeline.h"
#include "pipecut/remote.h"
#include "pipeline/stage_cores.h"
#include "pipeline/stage_weight.h"
#include "pipeline/thread_clock.h"
#include "remote/frame_codec.h"
#include "remote/message_headers.h"
#include "remote/nats_session.h"
#include "remote/pull_consumer.h"

namespace pipecut {

using remote::Header;
using remote::MsgPtr;
using remote::NatsSession;
using remote::PullConsumer;

namespace {

struct Counters {
  std::atomic<uint64_t> frames{0}, redelivered{0}, failed_attempts{0};
  std::atomic<int64_t> run_ns{0}, cpu_ns{0};
};

// Each stage's work per frame, for weighing and placing the workers, in multiply-accumulates:
// its ops' MACs; for an op without any (ADD, pooling), 60 per output element, since on this
// project's machine such ops of ResNet-101's segments take 54-67 times as long per element as
// their convolutions per MAC (`run --profile`: the first segment's ADDs, pooling and padding,
// 6.0 M elements, 0.71 ms; its 2.69 GMAC of convolutions 5.8 ms); plus what
// taking and passing on a frame costs a worker, which on this project's machine is about the
// time of 10^8 MACs (0.3 ms per hop at some 350 GMAC/s), so that a stage of a few small ops is
// not weighed as almost nothing.
constexpr double kHopMacs = 1e8;
constexpr double kMacsPerElement = 60;
std::vector<double> stage_costs(const RemoteLayout& layout) {
  std::vector<double> costs;
  for (const auto& stage : layout.stages) {
    double macs = kHopMacs;
    // A stage without a file (executables from Options::make_stage) is known by its hop only.
    if (!stage.file.empty()) {
      // At 1,000 a second an op's work in ms is its count of MACs.
      for (double op : op_ms_from_macs(Model::load(stage.file), 1e3, kMacsPerElement)) macs += op;
    }
    costs.push_back(macs);
  }
  return costs;
}

// The stage's name in messages: "stage 3 (seg3.tflite)".
std::string stage_label(const RemoteLayout& layout, int stage) {
  const auto& file = layout.stages[static_cast<size_t>(stage) - 1].file;
  const std::string label = "stage " + std::to_string(stage);
  return file.empty() ? label : label + " (" + file.filename().string() + ")";
}

}  // namespace

struct StageWorkers::Impl {
  RemoteLayout layout;
  NatsOptions nats;
  Options options;
  std::vector<int> stages;
  std::vector<std::unique_ptr<Counters>> counters;  // per entry of `stages`
  std::vector<int> nice;                            // per entry of `stages`: steps to take
  std::vector<std::vector<int>> cpu;  // per entry of `stages` and worker: -1 when not pinned
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable changed;
  std::string fatal;  // the first worker's reason for giving up

  void give_up(const std::string& reason) {
    {
      const std::lock_guard lock(mutex);
      if (fatal.empty()) fatal = reason;
    }
    changed.notify_all();
  }

  void work(size_t slot, int stage, int at_cpu, const std::shared_ptr<Executable>& exe) {
    const RemoteLayout::Stage& me = layout.stages[static_cast<size_t>(stage) - 1];
    const bool last = static_cast<size_t>(stage) == layout.stages.size();
    Counters& count = *counters[slot];
    // Before the session starts its threads, which inherit the value. A hint: where the kernel
    // refuses, the worker runs at its usual weight.
    if (nice[slot] > 0) pipeline_detail::raise_thread_nice(nice[slot]);
    if (at_cpu >= 0) pipeline_detail::pin_thread_to_cpu(at_cpu);  // inherited as nice is
    try {
      NatsSession session(nats, "pipecut-" + layout.id + "-s" + std::to_string(stage));
      PullConsumer pull(session, me.stream, "stage", [&session, &me] {
        session.ensure_work_queue(me.stream, me.subject);
        session.ensure_consumer(me.stream, me.subject, "stage");
      });
      while (!stopping) {
        MsgPtr msg = pull.next(std::chrono::milliseconds(500));
        if (!msg) continue;
        handle(session, pull, *exe, stage, me, last, std::move(msg), count);
      }
    } catch (const std::exception& e) {
      give_up(stage_label(layout, stage) + ": " + e.what());
    }
  }

  // Replies go to this tree's results subject and nowhere else.
  bool valid_reply(const std::string& reply) const {
    const std::string prefix = layout.results_subject("");
    return reply.size() > prefix.size() && reply.compare(0, prefix.size(), prefix) == 0 &&
           remote::valid_token(reply.substr(prefix.size()));
  }

  // Publishes; when that fails (the server away for longer than the retry, a stream refusing),
  // hands the frame back to the queue for a later try instead of letting the worker die over it.
  bool publish_or_hand_back(NatsSession& session, PullConsumer& pull, MsgPtr& msg,
                            const std::string& subject, std::span<const uint8_t> body,
                            const std::string& id, const std::vector<Header>& headers) {
    try {
      session.publish(subject, body, id, headers, nats.ack_wait / 2);
      return true;
    } catch (const Error&) {
      pull.nak(std::move(msg), std::chrono::seconds(1));
      return false;
    }
  }

  void handle(NatsSession& session, PullConsumer& pull, Executable& exe, int stage,
              const RemoteLayout::Stage& me, bool last, MsgPtr owned, Counters& count) {
    natsMsg* msg = owned.get();
    const uint64_t delivered = remote::deliveries(msg);
    const std::string run = remote::header(msg, remote::kRunHeader);
    const std::string reply = remote::header(msg, remote::kReplyHeader);
    bool numbered = false;
    const uint64_t frame_number =
        remote::parse_count(remote::header(msg, remote::kFrameHeader), &numbered);
    const uint64_t redelivered =
        remote::parse_count(remote::header(msg, remote::kRedeliveredHeader)) + (delivered - 1);
    // Not from a pipecut client of this tree: nobody to tell, and nothing to retry.
    if (!numbered || !remote::valid_token(run) || !valid_reply(reply)) {
      pull.term(std::move(owned));
      return;
    }
    std::vector<Header> headers{{remote::kRunHeader, run},
                                {remote::kReplyHeader, reply},
                                {remote::kFrameHeader, std::to_string(frame_number)},
                                {remote::kRedeliveredHeader, std::to_string(redelivered)}};
    std::string failure;
    bool retry = true;
    remote::Frame out;
    out.number = frame_number;
    try {
      remote::Frame in;
      try {
        in = remote::decode_frame(
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(natsMsg_GetData(msg)),
                                     static_cast<size_t>(natsMsg_GetDataLength(msg))));
      } catch (const Error&) {
        retry = false;  // the same bytes will not decode the next time either
        throw;
      }
      if (in.number != frame_number) {
        retry = false;
        throw Error("the frame's body says frame " + std::to_string(in.number) +
                    ", its header frame " + std::to_string(frame_number));
      }
      if (options.before_run) options.before_run(stage, in.number);
      const auto find = [](auto& list, const std::string& name) {
        return std::find_if(list.begin(), list.end(),
                            [&](const TensorValue& v) { return v.name == name; });
      };
      const auto forwarded = [&](const std::string& name) {
        return std::find(me.forwards.begin(), me.forwards.end(), name) != me.forwards.end();
      };
      // Tensors are moved, not copied, wherever they have one use (each copy of a 784 KiB
      // feature map costs as much as a small op).
      std::vector<TensorValue> inputs;
      for (const TensorSpec& spec : exe.inputs()) {
        const auto it = find(in.tensors, spec.name);
        if (it == in.tensors.end() || it->type != spec.type || it->shape != spec.shape ||
            static_cast<int64_t>(it->data.size()) != spec.byte_size()) {
          retry = false;  // the same frame will not fit the next time either
          throw Error(it == in.tensors.end()
                          ? "the frame has no tensor " + spec.name
                          : "the frame's " + spec.name + " is not the " + dtype_name(spec.type) +
                                " tensor of " + std::to_string(spec.byte_size()) +
                                " bytes the stage reads");
        }
        if (forwarded(spec.name))
          inputs.push_back(*it);
        else
          inputs.push_back(std::move(*it));
      }
      const auto wall0 = std::chrono::steady_clock::now();
      const auto cpu0 = pipeline_detail::thread_cpu_time();
      std::vector<TensorValue> outputs = exe.run(inputs);
      count.cpu_ns += (pipeline_detail::thread_cpu_time() - cpu0).count();
      count.run_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now() - wall0)
                          .count();
      for (const std::string& name : me.forwards) {
        auto it = find(outputs, name);
        if (it == outputs.end()) {
          it = find(in.tensors, name);
          if (it == in.tensors.end()) {
            retry = false;
            throw Error("the frame has no tensor " + name + " to pass on");
          }
        }
        out.tensors.push_back(std::move(*it));
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty()) {
      ++count.failed_attempts;
      if (retry && delivered < static_cast<uint64_t>(nats.max_attempts)) {
        pull.nak(std::move(owned), std::chrono::milliseconds(200));  // another worker may take it
        return;
      }
      headers.push_back({remote::kFailedHeader,
                         remote::header_text(stage_label(layout, stage) + ": " + failure)});
      if (!publish_or_hand_back(session, pull, owned, reply, {},
                                remote::message_id(run, frame_number, "fail"), headers))
        return;
    } else {
      const std::vector<uint8_t> body = remote::encode_frame(out);
      const std::string next = last ? "out" : "s" + std::to_string(stage + 1);
      const std::string subject = last ? reply : layout.stages[static_cast<size_t>(stage)].subject;
      if (!publish_or_hand_back(session, pull, owned, subject, body,
                                remote::message_id(run, frame_number, next), headers))
        return;
      ++count.frames;
      if (delivered > 1) ++count.redelivered;
    }
    // Acknowledged only now: a worker that dies before this line leaves the frame to another,
    // and its publish, sent again, is dropped as a duplicate. The acknowledgement is not waited
    // for (one round trip less per hop): one the server never gets has the same outcome. It also
    // asks for the next frame.
    pull.ack_next(std::move(owned));
  }
};

StageWorkers::StageWorkers(const RemoteLayout& layout, const NatsOptions& nats,
                           const Options& options)
    : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.layout = layout;
  im.nats = nats;
  im.options = options;
  if (options.workers < 1) throw Error("serve: --workers must be at least 1");
  im.stages = options.stages;
  if (im.stages.empty())
    for (size_t i = 1; i <= layout.stages.size(); ++i) im.stages.push_back(static_cast<int>(i));
  for (int s : im.stages) {
    if (s < 1 || static_cast<size_t>(s) > layout.stages.size())
      throw Error("serve: stage " + std::to_string(s) + " does not exist (the tree has " +
                  std::to_string(layout.stages.size()) + ")");
  }
  const bool weighted =
      options.weights == Options::Weights::kMacs ||
      (options.weights == Options::Weights::kAuto &&
       stage_threads_outnumber_cores(im.stages.size() * static_cast<size_t>(options.workers),
                                     options.threads, usable_cores()));
  if (options.pin && options.threads > 1) {
    throw Error("serve: --pin binds each worker's one thread to a core; with --threads " +
                std::to_string(options.threads) + " leave it off");
  }
  const std::vector<int> allowed = pipeline_detail::allowed_cpus();
  const bool pin = options.pin && !allowed.empty();  // unknown CPUs: nothing is pinned
  // Weighing and placing read every stage file of the tree (each process plans for the whole
  // tree, so that processes serving different stages on one host place them alike).
  const std::vector<double> costs = weighted || pin ? stage_costs(layout) : std::vector<double>{};
  const std::vector<int> steps = weighted ? pipeline_detail::nice_steps_for_costs(costs)
                                          : std::vector<int>(layout.stages.size(), 0);
  for (int s : im.stages) im.nice.push_back(steps[static_cast<size_t>(s) - 1]);
  // Every stage of the tree taken to have `workers` workers sharing its work, each on a
  // different core where there are enough, so that a core that runs dry can take any stage's
  // next frame.
  const size_t per_stage = static_cast<size_t>(options.workers);
  std::vector<std::vector<size_t>> cores;  // per stage of the tree and worker: into `allowed`
  if (pin) cores = pipeline_detail::cores_for_workers(costs, per_stage, allowed.size());
  const auto cpu_of = [&](int stage, int w) {
    return cores.empty() ? -1
                         : allowed[cores[static_cast<size_t>(stage) - 1][static_cast<size_t>(w)]];
  };
  for (int s : im.stages) {
    im.cpu.emplace_back();
    for (int w = 0; w < options.workers; ++w) im.cpu.back().push_back(cpu_of(s, w));
  }
  // Checked before any frame is taken: the server's limits, and every queue in place.
  {
    NatsSession session(nats, "pipecut-" + layout.id + "-setup");
    for (int s : im.stages) {
      const auto& st = layout.stages[static_cast<size_t>(s) - 1];
      if (st.largest_message > session.max_payload()) {
        throw Error(stage_label(layout, s) + " sends messages of " +
                    std::to_string(st.largest_message) + " bytes, above the server's limit of " +
                    std::to_string(session.max_payload()) +
                    " bytes (raise max_payload in nats-server's configuration)");
      }
    }
    session.ensure_queues(layout);
  }
  // Every executable is loaded before the first thread starts: a stage that cannot load is
  // refused with nothing running.
  CpuOptions cpu;
  cpu.threads = options.threads;
  std::vector<std::tuple<size_t, int, int, std::shared_ptr<Executable>>> jobs;
  for (size_t slot = 0; slot < im.stages.size(); ++slot) {
    im.counters.push_back(std::make_unique<Counters>());
    const int s = im.stages[slot];
    for (int w = 0; w < options.workers; ++w) {
      std::shared_ptr<Executable> exe =
          options.make_stage
              ? options.make_stage(s)
              : load_cpu(Model::load(layout.stages[static_cast<size_t>(s) - 1].file), cpu);
      if (!exe) throw Error("serve: no executable for stage " + std::to_string(s));
      jobs.emplace_back(slot, s, cpu_of(s, w), std::move(exe));
    }
  }
  try {
    for (auto& [slot, s, cpu, exe] : jobs)
      im.threads.emplace_back(
          [&im, slot = slot, s = s, cpu = cpu, exe = exe] { im.work(slot, s, cpu, exe); });
  } catch (...) {  // no more threads to be had: stop the ones started
    stop();
    for (auto& t : im.threads) t.join();
    throw;
  }
}

StageWorkers::~StageWorkers() {
  stop();
  for (auto& t : impl_->threads) t.join();
}

void StageWorkers::stop() {
  {
    const std::lock_guard lock(impl_->mutex);  // so that wait() cannot miss the change
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
}

std::string StageWorkers::wait() {
  std::unique_lock lock(impl_->mutex);
  impl_->changed.wait(lock, [&] { return impl_->stopping || !impl_->fatal.empty(); });
  return impl_->fatal;
}

std::vector<int> StageWorkers::nice_steps() const {
  return impl_->nice;
}

std::vector<std::vector<int>> StageWorkers::cpus() const {
  return impl_->cpu;
}

std::vector<WorkerStats> StageWorkers::stats() const {
  std::vector<WorkerStats> out;
  for (const auto& c : impl_->counters)
    out.push_back({c->frames.load(), c->redelivered.load(), c->failed_attempts.load(),
                   std::chrono::nanoseconds(c->run_ns.load()),
                   std::chrono::nanoseconds(c->cpu_ns.load())});
  return out;
}

}  // namespace pipecut
