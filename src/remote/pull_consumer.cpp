#include "remote/pull_consumer.h"

#include <algorithm>
#include <thread>

#include "pipecut/error.h"

namespace pipecut::remote {

namespace {

using Clock = std::chrono::steady_clock;

// A pull request waits this long on the server for a message, then expires with a 408 and a new
// one is sent: an idle worker asks once every few seconds.
constexpr auto kRequestExpires = std::chrono::seconds(5);
// A request neither answered nor expired this long after its expiry was lost (a server restart
// without a reconnect the client noticed).
constexpr auto kRequestLostAfter = std::chrono::seconds(1);

}  // namespace

PullConsumer::PullConsumer(NatsSession& session, const std::string& stream,
                           const std::string& durable, std::function<void()> ensure)
    : session_(session),
      ensure_(std::move(ensure)),
      name_("consumer " + durable + " on stream " + stream),
      next_subject_("$JS.API.CONSUMER.MSG.NEXT." + stream + "." + durable) {
  if (ensure_) ensure_();
  ensured_at_ = Clock::now();
  subscribe();
  request_body_ = "{\"batch\":1,\"expires\":" +
                  std::to_string(std::chrono::nanoseconds(kRequestExpires).count()) + "}";
}

PullConsumer::~PullConsumer() {
  natsSubscription_Destroy(sub_);
}

void PullConsumer::subscribe() {
  if (sub_) {
    natsSubscription_Unsubscribe(sub_);  // best effort: the connection may be down
    natsSubscription_Destroy(sub_);
    sub_ = nullptr;
  }
  natsInbox* inbox = nullptr;
  check(natsInbox_Create(&inbox), name_);
  inbox_ = inbox;
  natsInbox_Destroy(inbox);
  check(natsConnection_SubscribeSync(&sub_, session_.connection(), (inbox_ + ".*").c_str()), name_);
  subscribed_at_reconnect_ = session_.reconnects();
}

std::string PullConsumer::next_reply() {
  return inbox_ + "." + std::to_string(++requests_);
}

void PullConsumer::request() {
  natsConnection* nc = session_.connection();
  if (natsConnection_Status(nc) != NATS_CONN_STATUS_CONNECTED) {
    if (natsConnection_IsClosed(nc)) check(NATS_CONNECTION_CLOSED, name_ + ": asking for a frame");
    return;  // asked again once connected
  }
  const std::string to = next_reply();
  const natsStatus s =
      natsConnection_PublishRequest(nc, next_subject_.c_str(), to.c_str(), request_body_.data(),
                                    static_cast<int>(request_body_.size()));
  if (s == NATS_OK) {
    current_ = to;
    requested_until_ = Clock::now() + kRequestExpires;
  } else if (s == NATS_CONNECTION_CLOSED) {
    check(s, name_ + ": asking for a frame");
  }  // else: asked again on the next call
}

MsgPtr PullConsumer::next(std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    const auto now = Clock::now();
    // After a reconnect a request may live on in a server that stayed up: a fresh inbox leaves
    // it no one to deliver to (the server drops it), so that one request stays the only one.
    // Frames the old inbox held are redelivered after ack_wait.
    if (session_.reconnects() != subscribed_at_reconnect_) {
      subscribe();
      requested_until_.reset();
    }
    if (requested_until_ && now > *requested_until_ + kRequestLostAfter && nothing_pending()) {
      // Not even a 408 (one waiting unread, for a caller that pops late, would be an answer):
      // the server lost the request, or no consumer holds it (the server's JetStream API takes
      // requests for consumers it does not have without a word).
      requested_until_.reset();
      if (natsConnection_Status(session_.connection()) == NATS_CONN_STATUS_CONNECTED)
        ensure_again();  // not while reconnecting: its calls would wait out their timeouts
    }
    if (!requested_until_) request();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    if (left <= 0) return nullptr;
    // While no request could be sent (the connection down), look again soon.
    if (!requested_until_) left = std::min<int64_t>(left, 100);
    natsMsg* raw = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&raw, sub_, left);
    if (s == NATS_TIMEOUT) {
      if (requested_until_) failing_since_.reset();
      continue;  // the deadline check above returns
    }
    if (s == NATS_SLOW_CONSUMER) {  // dropped messages are redelivered after ack_wait
      requested_until_.reset();     // one of them may have answered the request
      continue;
    }
    if (s != NATS_OK) {
      if (!failing_since_) failing_since_ = now;
      if (s == NATS_CONNECTION_CLOSED || natsConnection_IsClosed(session_.connection()) ||
          now - *failing_since_ >= kRetryWindow)
        check(s, name_ + ": fetching a frame");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    MsgPtr msg(raw);
    const std::string status = status_code(raw);
    if (status.empty()) {
      // A frame carries its stream's subject, not the request's: taken as the current request's
      // (a batch of one, delivered). Were it an earlier request's, the current one is forgotten
      // and, like every request, ends within kRequestExpires: at most two are ever out.
      failing_since_.reset();
      ensure_failing_since_.reset();
      requested_until_.reset();
      return msg;
    }
    // Statuses come on the request's own subject.
    const bool answers_current = requested_until_ && current_ == natsMsg_GetSubject(raw);
    // 408: the request expired; 404: nothing to deliver; 100: a heartbeat, the request goes on.
    // Anything else (no responders: the consumer or JetStream is gone; 409: the server refused
    // the request) is a failure that lasts as long as the retry window allows. Statuses of
    // earlier requests say nothing about the current one.
    if (!answers_current) continue;
    ensure_failing_since_.reset();  // the consumer answers: it exists
    if (status == "100") continue;
    requested_until_.reset();
    if (status == "408" || status == "404") continue;
    if (!failing_since_) failing_since_ = now;
    if (status == "503") ensure_again();
    if (now - *failing_since_ >= kRetryWindow)
      throw Error(name_ + ": fetching a frame: the server answers status " + status);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool PullConsumer::nothing_pending() const {
  int msgs = 0, bytes = 0;
  return natsSubscription_GetPending(sub_, &msgs, &bytes) != NATS_OK || msgs == 0;
}

void PullConsumer::ensure_again() {
  const auto now = Clock::now();
  if (!ensure_ || now - ensured_at_ < std::chrono::seconds(1)) return;
  ensured_at_ = now;
  try {
    ensure_();
    ensure_failing_since_.reset();
  } catch (const Error& e) {
    // The server may still be starting JetStream; what keeps failing for the retry window (no
    // right to make streams, a stream of the same name but another shape) is reported.
    if (!ensure_failing_since_) ensure_failing_since_ = now;
    if (now - *ensure_failing_since_ >= kRetryWindow)
      throw Error(name_ + ": making it again: " + e.what());
  }
}

void PullConsumer::reply(MsgPtr msg, const std::string& body, bool asks_next) {
  const char* to = natsMsg_GetReply(msg.get());
  if (to && *to) {
    natsConnection* nc = session_.connection();
    const int size = static_cast<int>(body.size());
    const std::string answer_to = asks_next ? next_reply() : std::string();
    const natsStatus s =
        asks_next ? natsConnection_PublishRequest(nc, to, answer_to.c_str(), body.data(), size)
                  : natsConnection_Publish(nc, to, body.data(), size);
    // A lost acknowledgement only means a redelivery, which the stream's deduplication and the
    // client's first-result rule absorb.
    if (s == NATS_OK && asks_next) {
      current_ = answer_to;
      requested_until_ = Clock::now() + kRequestExpires;
    }
  }
}

void PullConsumer::ack_next(MsgPtr msg) {
  // A request is out already (the message came from an earlier one), or the connection is down
  // (a request buffered meanwhile would be one more outstanding): acknowledge only.
  if (requested_until_ ||
      natsConnection_Status(session_.connection()) != NATS_CONN_STATUS_CONNECTED) {
    reply(std::move(msg), "+ACK", false);
    return;
  }
  reply(std::move(msg), "+NXT " + request_body_, true);
}

void PullConsumer::nak(MsgPtr msg, std::chrono::milliseconds delay) {
  reply(std::move(msg),
        "-NAK {\"delay\":" + std::to_string(std::chrono::nanoseconds(delay).count()) + "}", false);
}

void PullConsumer::term(MsgPtr msg) {
  reply(std::move(msg), "+TERM", false);
}

}  // namespace pipecut::remote
