#pragma once
// One NATS connection with its JetStream context, and the few JetStream calls serve and infer
// make, each turning a failure into a pipecut::Error that says what was being done.
#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pipecut/remote.h"

namespace pipecut::remote {

// A failure while the connection is still open is retried: the client library reconnects on its
// own (and closes the connection only after its reconnect window), and a restarting server
// refuses JetStream requests for a moment ("JetStream not enabled", no responders). What keeps
// failing for this long is reported.
inline constexpr auto kRetryWindow = std::chrono::seconds(60);

// A tree's results stream drops what no client collected within this time.
inline constexpr auto kResultsMaxAge = std::chrono::seconds(3600);

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
  // The acknowledgement comes to an inbox of this session's, read by the caller's thread (the
  // library's own request path passes it through one more thread). Thread-safe: concurrent
  // publishes take turns.
  bool publish(const std::string& subject, std::span<const uint8_t> data, const std::string& msg_id,
               const std::vector<Header>& headers,
               std::chrono::milliseconds retry_for = std::chrono::seconds(60));
  // Every work queue of a tree folder: one per stage, and the results (kept an hour at most).
  void ensure_queues(const RemoteLayout& layout);
  // Makes sure the durable consumer `durable` of `stream`, filtered on `subject`, exists: explicit
  // acknowledgement after ack_wait, unlimited redelivery. The first program to need it creates
  // it; later ones take it as it is.
  void ensure_consumer(const std::string& stream, const std::string& subject,
                       const std::string& durable);
  void delete_consumer(const std::string& stream, const std::string& durable);
  const NatsOptions& options() const { return options_; }
  natsConnection* connection() const { return connection_; }
  jsCtx* jetstream() const { return js_; }
  // How often the connection has been re-established (a pull request sent before may be gone,
  // or live on in a server that stayed up). Thread-safe.
  uint64_t reconnects() const;

 private:
  NatsOptions options_;
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
  // publish(): its inbox, the subscription on it, and the count that tells replies apart.
  std::mutex publish_mutex_;
  std::string ack_inbox_;
  natsSubscription* ack_sub_ = nullptr;
  uint64_t publishes_ = 0;
  // reconnects(): the library's counters, read into one object kept for the session (asked
  // about once per frame).
  mutable std::mutex stats_mutex_;
  natsStatistics* stats_ = nullptr;

  // One attempt: kept, duplicate, or the reason it failed (retried while the caller allows).
  struct Attempt {
    bool ok = false, duplicate = false;
    natsStatus status = NATS_OK;
    std::string reason;
  };
  Attempt publish_once(const std::string& subject, std::span<const uint8_t> data,
                       const std::string& msg_id, const std::vector<Header>& headers);
};

// A header's value on a received message, or empty.
std::string header(natsMsg* msg, const char* key);
// How many times the server has delivered this message (1 the first time), from its JetStream
// acknowledgement subject; 1 when unknown.
uint64_t deliveries(natsMsg* msg);
// A status message's code ("408", "404", "503", ...), or empty for a message that is not one.
std::string status_code(natsMsg* msg);

}  // namespace pipecut::remote
