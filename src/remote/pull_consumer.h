#pragma once
// A worker's side of a durable JetStream pull consumer, on the JetStream wire protocol and an
// inbox of its own. The library's pull subscription sends a pull request and an acknowledgement
// per message; here the acknowledgement of one message asks for the next (+NXT), one message to
// the server instead of two. The messages are read by the caller's thread, straight from the
// subscription the client library fills.
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "remote/nats_session.h"

namespace pipecut::remote {

class PullConsumer {
 public:
  // `ensure` makes sure the stream and the durable consumer exist (NatsSession::ensure_*): it is
  // called here first, and again whenever a pull request expires unanswered (no 408: the
  // consumer or its stream may be gone, as after a restart of a server whose streams were in
  // memory) or finds no one serving it (503), at most once a second, so that a worker picks up
  // again rather than waiting forever or failing (a stream or consumer deleted on purpose comes
  // back too, while its workers run). Not thread-safe: one thread pulls.
  PullConsumer(NatsSession& session, const std::string& stream, const std::string& durable,
               std::function<void()> ensure);
  ~PullConsumer();
  PullConsumer(const PullConsumer&) = delete;
  PullConsumer& operator=(const PullConsumer&) = delete;

  // The next message, or null when none came within `wait`. Failures while the connection is
  // open are retried for a minute; then, or once the connection is closed, it throws.
  MsgPtr next(std::chrono::milliseconds wait);
  // Acknowledges and asks for the next message in one.
  void ack_next(MsgPtr msg);
  // Hands the message back for redelivery after `delay`.
  void nak(MsgPtr msg, std::chrono::milliseconds delay);
  // Never to be delivered again (a message that is not a frame).
  void term(MsgPtr msg);

 private:
  // Sends a pull request on a reply subject of its own, unless the connection is down (a request
  // buffered meanwhile would be one more outstanding after the reconnect).
  void request();
  // A fresh inbox and the subscription on it (at start, and after every reconnect).
  void subscribe();
  void reply(MsgPtr msg, const std::string& body, bool asks_next);
  std::string next_reply();  // <inbox>.<n> for the next request

  // Calls ensure_ unless it ran less than a second ago; throws its reason once it has failed for
  // kRetryWindow with no answer from the consumer in between. While the server's JetStream does
  // not answer, each call may take its API wait (5 s), and next() returns that much late.
  void ensure_again();
  bool nothing_pending() const;  // no message waits unread in the subscription

  NatsSession& session_;
  std::function<void()> ensure_;
  std::chrono::steady_clock::time_point ensured_at_;
  std::optional<std::chrono::steady_clock::time_point> ensure_failing_since_;
  std::string name_;          // "consumer <durable> on stream <stream>", for messages
  std::string next_subject_;  // $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>
  std::string inbox_;         // requests are answered on <inbox>.<n>
  natsSubscription* sub_ = nullptr;
  std::string request_body_;
  uint64_t requests_ = 0;
  uint64_t subscribed_at_reconnect_ = 0;  // the connection's reconnect count at subscribe()
  // The current pull request, if any: its reply subject and until when it is valid. Statuses of
  // earlier requests (a late 408) leave the current one be.
  std::string current_;
  std::optional<std::chrono::steady_clock::time_point> requested_until_;
  std::optional<std::chrono::steady_clock::time_point> failing_since_;
};

}  // namespace pipecut::remote
