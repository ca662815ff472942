// The client of a served tree: frames out to stage 1, results back on this run's own subject,
// each frame's first result kept and handed out in push order.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>

#include "pipecut/error.h"
#include "pipecut/remote.h"
#include "remote/frame_codec.h"
#include "remote/message_headers.h"
#include "remote/nats_session.h"
#include "remote/pull_consumer.h"

namespace pipecut {

using Clock = std::chrono::steady_clock;

namespace {

std::string random_run_id() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  static const char* hex = "0123456789abcdef";
  std::string id;
  uint64_t v = gen();
  for (int i = 0; i < 12; ++i, v >>= 4) id += hex[v & 15];
  return id;
}

}  // namespace

struct RemotePipeline::Impl {
  RemoteLayout layout;
  std::unique_ptr<remote::NatsSession> session;
  std::string run, durable, reply;
  std::unique_ptr<remote::PullConsumer> results;  // after session: destroyed before it
  std::mutex mutex;  // guards pushed, sent_at and stats between the push and pop threads
  uint64_t pushed = 0;
  std::map<uint64_t, Clock::time_point> sent_at;
  uint64_t next = 0;  // the frame pop() returns next
  std::map<uint64_t, RemoteResult> waiting;
  RemoteStats stats;
  std::atomic<bool> cancelled{false};

  // Takes one result message: the first per frame is kept, later ones are counted and dropped.
  void take(natsMsg* msg) {
    bool ok = false;
    const uint64_t frame = remote::parse_count(remote::header(msg, remote::kFrameHeader), &ok);
    const std::lock_guard lock(mutex);
    if (!ok || remote::header(msg, remote::kRunHeader) != run || frame >= pushed) return;
    if (frame < next || waiting.count(frame)) {
      ++stats.duplicates;
      return;
    }
    RemoteResult r;
    r.frame = frame;
    r.redelivered = remote::parse_count(remote::header(msg, remote::kRedeliveredHeader));
    r.latency = Clock::now() - sent_at[frame];
    const std::string failed = remote::header(msg, remote::kFailedHeader);
    if (!failed.empty()) {
      r.failed = true;
      r.reason = failed;
    } else {
      try {
        remote::Frame f = remote::decode_frame(
            std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(natsMsg_GetData(msg)),
                                     static_cast<size_t>(natsMsg_GetDataLength(msg))));
        for (const TensorSpec& spec : layout.outputs) {
          auto it = std::find_if(f.tensors.begin(), f.tensors.end(),
                                 [&](const TensorValue& v) { return v.name == spec.name; });
          if (it == f.tensors.end()) throw Error("the result has no tensor " + spec.name);
          if (it->type != spec.type || it->shape != spec.shape ||
              static_cast<int64_t>(it->data.size()) != spec.byte_size())
            throw Error("the result's " + spec.name + " is not the tensor the tree outputs");
          r.outputs.push_back(std::move(*it));
        }
      } catch (const Error& e) {
        r.failed = true;
        r.reason = std::string("result: ") + e.what();
        r.outputs.clear();
      }
    }
    ++stats.results;
    if (r.failed) ++stats.failed;
    stats.redelivered += r.redelivered;
    sent_at.erase(frame);
    waiting.emplace(frame, std::move(r));
  }
};

RemotePipeline::RemotePipeline(const RemoteLayout& layout, const NatsOptions& nats)
    : impl_(std::make_unique<Impl>()) {
  Impl& im = *impl_;
  im.layout = layout;
  im.run = random_run_id();
  im.durable = "run-" + im.run;
  im.reply = layout.results_subject(im.run);
  im.session = std::make_unique<remote::NatsSession>(nats, "pipecut-infer-" + im.run);
  const int64_t in_bytes = remote::encoded_size(0, layout.inputs) + 512;
  if (in_bytes > im.session->max_payload()) {
    throw Error("the frames (" + std::to_string(in_bytes) +
                " bytes) exceed the server's limit of " +
                std::to_string(im.session->max_payload()) + " bytes");
  }
  // The stages' queues here; the results stream with the results consumer, below.
  for (const auto& st : layout.stages) im.session->ensure_work_queue(st.stream, st.subject);
  im.results =
      std::make_unique<remote::PullConsumer>(*im.session, layout.results_stream, im.durable, [&im] {
        im.session->ensure_work_queue(im.layout.results_stream, im.layout.results_subject("*"),
                                      remote::kResultsMaxAge);
        im.session->ensure_consumer(im.layout.results_stream, im.reply, im.durable);
      });
}

RemotePipeline::~RemotePipeline() {
  impl_->session->delete_consumer(impl_->layout.results_stream, impl_->durable);
}

const std::vector<TensorSpec>& RemotePipeline::inputs() const {
  return impl_->layout.inputs;
}

uint64_t RemotePipeline::push(const std::vector<TensorValue>& inputs) {
  Impl& im = *impl_;
  const auto& specs = im.layout.inputs;
  if (inputs.size() != specs.size())
    throw Error("push: " + std::to_string(inputs.size()) + " inputs given, the tree takes " +
                std::to_string(specs.size()));
  remote::Frame frame;
  for (size_t i = 0; i < specs.size(); ++i) {
    TensorValue v = inputs[i];
    if (v.name.empty()) v.name = specs[i].name;
    if (v.name != specs[i].name || v.type != specs[i].type ||
        static_cast<int64_t>(v.data.size()) != specs[i].byte_size())
      throw Error("push: input " + std::to_string(i) + " is not " + specs[i].name + " (" +
                  dtype_name(specs[i].type) + ", " + std::to_string(specs[i].byte_size()) +
                  " bytes)");
    v.shape = specs[i].shape;
    v.quant = specs[i].quant;
    frame.tensors.push_back(std::move(v));
  }
  {
    const std::lock_guard lock(im.mutex);
    frame.number = im.pushed;  // counted only once sent: a failed push leaves no hole
  }
  const std::vector<uint8_t> body = remote::encode_frame(frame);
  const auto sent = Clock::now();
  im.session->publish(im.layout.stages.front().subject, body,
                      remote::message_id(im.run, frame.number, "s1"),
                      {{remote::kRunHeader, im.run},
                       {remote::kReplyHeader, im.reply},
                       {remote::kFrameHeader, std::to_string(frame.number)},
                       {remote::kRedeliveredHeader, "0"}});
  {
    const std::lock_guard lock(im.mutex);
    im.sent_at[frame.number] = sent;
    ++im.pushed;
    ++im.stats.pushed;
  }
  return frame.number;
}

std::optional<RemoteResult> RemotePipeline::pop(std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (im.cancelled) throw Error("cancelled");
    {
      const std::lock_guard lock(im.mutex);
      if (im.next >= im.pushed) return std::nullopt;
      auto it = im.waiting.find(im.next);
      if (it != im.waiting.end()) {
        RemoteResult r = std::move(it->second);
        im.waiting.erase(it);
        ++im.next;
        return r;
      }
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      throw Error("frame " + std::to_string(im.next) + ": no result within " +
                  std::to_string(timeout.count()) + " ms (are workers serving every stage?)");
    }
    const auto wait =
        std::min(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                 std::chrono::milliseconds(500));
    remote::MsgPtr msg = im.results->next(std::max(wait, std::chrono::milliseconds(1)));
    if (!msg) continue;
    im.take(msg.get());
    im.results->ack_next(std::move(msg));  // a lost ack only brings a duplicate; take() drops it
  }
}

void RemotePipeline::cancel() {
  impl_->cancelled = true;
}

RemoteStats RemotePipeline::stats() const {
  const std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

}  // namespace pipecut
