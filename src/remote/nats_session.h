#pragma once
// One NATS connection with its JetStream context, and the few JetStream calls serve and infer
// make, each turning a failure into a pipecut::Error that says what was being done.
#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pipecut/remote.h"

namespace pipecut::remote {

// Throws pipecut::Error "<what>: <NATS's text>" unless s is NATS_OK.
void check(natsStatus s, const std::string& what, jsErrCode js_error = static_cast<jsErrCode>(0));

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

// A header to set on a published message.
struct Header {
  std::string key, value;
};

class NatsSession {
 public:
  // Connects (retrying while the server is not up yet, for up to `connect_wait`) and opens
  // JetStream. Reconnects on its own afterwards, for as long as the server stays away.
  NatsSession(const NatsOptions& options, const std::string& client_name,
              std::chrono::milliseconds connect_wait = std::chrono::seconds(10));
  ~NatsSession();
  NatsSession(const NatsSession&) = delete;
  NatsSession& operator=(const NatsSession&) = delete;

  int64_t max_payload() const;
  // A work-queue stream on `subject` (file or memory storage as the options say): created, or
  // left as it is when it exists. Messages older than `max_age` are dropped (0: kept).
  void ensure_work_queue(const std::string& stream, const std::string& subject,
                         std::chrono::seconds max_age = std::chrono::seconds(0));
  // Publishes and waits for the stream's acknowledgement; `msg_id` lets JetStream drop a second
  // copy. Returns whether the stream saw it as a duplicate.
  // Failures while the connection is open are retried for up to `retry_for` (at most a minute).
  bool publish(const std::string& subject, std::span<const uint8_t> data, const std::string& msg_id,
               const std::vector<Header>& headers,
               std::chrono::milliseconds retry_for = std::chrono::seconds(60));
  // Every work queue of a tree folder: one per stage, and the results (kept an hour at most).
  void ensure_queues(const RemoteLayout& layout);
  // A pull subscription on the durable consumer `durable` of `stream`, filtered on `subject`,
  // with explicit acknowledgement after ack_wait and unlimited redelivery.
  natsSubscription* pull_subscribe(const std::string& stream, const std::string& subject,
                                   const std::string& durable);
  // At most one message, or null when none came within `wait`.
  MsgPtr fetch_one(natsSubscription* sub, std::chrono::milliseconds wait);
  void delete_consumer(const std::string& stream, const std::string& durable);
  const NatsOptions& options() const { return options_; }

 private:
  NatsOptions options_;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
  std::vector<natsSubscription*> subscriptions_;
  std::optional<std::chrono::steady_clock::time_point> failing_since_;  // fetches failing since
};

// A header's value on a received message, or empty.
std::string header(natsMsg* msg, const char* key);
// How many times the server has delivered this message (1 the first time); 1 when unknown.
uint64_t deliveries(natsMsg* msg);

}  // namespace pipecut::remote
