#include "remote/nats_session.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "pipecut/error.h"
#include "remote/message_headers.h"

namespace pipecut::remote {

namespace {

using Clock = std::chrono::steady_clock;

bool open(natsConnection* nc, natsStatus s) {
  return s != NATS_CONNECTION_CLOSED && !natsConnection_IsClosed(nc);
}

// The client library spins up to 2,000 times on a busy mutex before it sleeps, which on a host
// whose cores are all running stages (the case pipecut serves) burns the time the lock's holder
// needs. Set once, before the first connection (the library's settings are process-wide): this
// must stay the process's first call into the client library, or the default stays.
void open_library() {
  static const natsStatus opened = nats_Open(0);
  check(opened, "NATS client library");
}

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

}  // namespace

void check(natsStatus s, const std::string& what, jsErrCode js_error) {
  if (s == NATS_OK) return;
  // The library's last error on this thread says more than the status ("certificate verify
  // failed", the JetStream API's own description); one line either way.
  std::string text = natsStatus_GetText(s);
  const char* detail = nats_GetLastError(nullptr);
  if (detail && *detail && text.find(detail) == std::string::npos)
    text += ": " + std::string(detail);
  if (js_error != 0)
    text += " (JetStream error " + std::to_string(static_cast<int>(js_error)) + ")";
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  throw Error(what + ": " + text);
}

NatsSession::NatsSession(const NatsOptions& options, const std::string& client_name,
                         std::chrono::milliseconds connect_wait)
    : options_(options) {
  open_library();
  natsOptions* raw = nullptr;
  check(natsOptions_Create(&raw), "NATS options");
  const std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  const std::string where = "NATS " + options.url;
  check(natsOptions_SetURL(raw, options.url.c_str()), where);
  check(natsOptions_SetName(raw, client_name.c_str()), where);
  check(natsOptions_SetTimeout(raw, 2000), where);
  // Frames are hundreds of KiB: read and write the socket in 1 MiB pieces, not the default 32 KiB.
  check(natsOptions_SetIOBufSize(raw, 1 << 20), where);
  // Acknowledgements go out at once instead of waiting for the library's flusher thread.
  check(natsOptions_SetSendAsap(raw, true), where);
  // After the first connection: keep trying for about a minute (a server restart takes seconds).
  check(natsOptions_SetAllowReconnect(raw, true), where);
  check(natsOptions_SetMaxReconnect(raw, 240), where);
  check(natsOptions_SetReconnectWait(raw, 250), where);
  if (!options.creds_file.empty()) {
    check(natsOptions_SetUserCredentialsFromFiles(raw, options.creds_file.c_str(), nullptr),
          options.creds_file);
  }
  if (!options.tls_ca.empty() || !options.tls_cert.empty()) {
    check(natsOptions_SetSecure(raw, true), where + ": TLS");
    if (!options.tls_ca.empty())
      check(natsOptions_LoadCATrustedCertificates(raw, options.tls_ca.c_str()), options.tls_ca);
    if (!options.tls_cert.empty()) {
      if (options.tls_key.empty()) throw Error(options.tls_cert + ": --tls-cert needs --tls-key");
      check(
          natsOptions_LoadCertificatesChain(raw, options.tls_cert.c_str(), options.tls_key.c_str()),
          options.tls_cert);
    }
  }
  const auto deadline = Clock::now() + connect_wait;
  for (;;) {
    const natsStatus s = natsConnection_Connect(&connection_, raw);
    if (s == NATS_OK) break;
    if (s != NATS_NO_SERVER || Clock::now() >= deadline) {
      throw Error(where + ": cannot connect: " + natsStatus_GetText(s));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  const natsStatus s = natsConnection_JetStream(&js_, connection_, &jo);
  if (s != NATS_OK) {
    natsConnection_Destroy(connection_);
    check(s, where + ": JetStream");
  }
  const natsStatus made = natsStatistics_Create(&stats_);
  if (made != NATS_OK) {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(connection_);
    check(made, where + ": statistics");
  }
}

NatsSession::~NatsSession() {
  natsStatistics_Destroy(stats_);  // made in the constructor, which throws otherwise
  if (ack_sub_) natsSubscription_Destroy(ack_sub_);
  jsCtx_Destroy(js_);
  natsConnection_Close(connection_);
  natsConnection_Destroy(connection_);
}

uint64_t NatsSession::reconnects() const {
  uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0, count = 0;
  const std::lock_guard lock(stats_mutex_);
  if (natsConnection_GetStats(connection_, stats_) == NATS_OK)
    natsStatistics_GetCounts(stats_, &in_msgs, &in_bytes, &out_msgs, &out_bytes, &count);
  return count;
}

int64_t NatsSession::max_payload() const {
  return natsConnection_GetMaxPayload(connection_);
}

void NatsSession::ensure_work_queue(const std::string& stream, const std::string& subject,
                                    std::chrono::seconds max_age) {
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), nullptr, &err);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return;
  }
  if (err != JSStreamNotFoundErr && s != NATS_NOT_FOUND) check(s, "stream " + stream, err);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream.c_str();
  const char* subjects[] = {subject.c_str()};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Retention = js_WorkQueuePolicy;
  cfg.Storage = options_.memory_storage ? js_MemoryStorage : js_FileStorage;
  cfg.MaxAge = static_cast<int64_t>(max_age.count()) * 1'000'000'000;
  // The window in which a republished message id is dropped: longer than a frame can wait for
  // redelivery (every attempt's acknowledgement wait) plus a publisher's retries, with margin.
  const auto window = std::max<std::chrono::milliseconds>(
      std::chrono::minutes(2),
      options_.ack_wait * (options_.max_attempts + 1) + kRetryWindow + std::chrono::minutes(1));
  cfg.Duplicates = static_cast<int64_t>(window.count()) * 1'000'000;
  if (cfg.MaxAge > 0 && cfg.Duplicates > cfg.MaxAge) cfg.Duplicates = cfg.MaxAge;
  err = static_cast<jsErrCode>(0);
  s = js_AddStream(&info, js_, &cfg, nullptr, &err);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return;
  }
  if (err == JSStreamNameExistErr) return;  // another worker made it first
  check(s, "creating stream " + stream, err);
}

void NatsSession::ensure_queues(const RemoteLayout& layout) {
  for (const auto& st : layout.stages) ensure_work_queue(st.stream, st.subject);
  ensure_work_queue(layout.results_stream, layout.results_subject("*"), kResultsMaxAge);
}

bool NatsSession::publish(const std::string& subject, std::span<const uint8_t> data,
                          const std::string& msg_id, const std::vector<Header>& headers,
                          std::chrono::milliseconds retry_for) {
  const std::lock_guard lock(publish_mutex_);
  if (!ack_sub_) {
    natsInbox* inbox = nullptr;
    check(natsInbox_Create(&inbox), "publishing to " + subject);
    ack_inbox_ = inbox;
    natsInbox_Destroy(inbox);
    check(natsConnection_SubscribeSync(&ack_sub_, connection_, (ack_inbox_ + ".*").c_str()),
          "publishing to " + subject);
  }
  // The same message id on every attempt: a retry after a lost acknowledgement is a duplicate
  // the stream drops, never a second frame.
  const auto deadline = Clock::now() + std::min<std::chrono::milliseconds>(retry_for, kRetryWindow);
  for (;;) {
    const Attempt a = publish_once(subject, data, msg_id, headers);
    if (a.ok) return a.duplicate;
    if (!open(connection_, a.status) || Clock::now() >= deadline)
      throw Error("publishing to " + subject + ": " + a.reason);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

NatsSession::Attempt NatsSession::publish_once(const std::string& subject,
                                               std::span<const uint8_t> data,
                                               const std::string& msg_id,
                                               const std::vector<Header>& headers) {
  Attempt a;
  const auto fail = [&](natsStatus s, std::string reason) {
    a.status = s;
    a.reason = std::move(reason);
    return a;
  };
  const std::string reply = ack_inbox_ + "." + std::to_string(++publishes_);
  natsMsg* raw = nullptr;
  check(natsMsg_Create(&raw, subject.c_str(), reply.c_str(),
                       reinterpret_cast<const char*>(data.data()), static_cast<int>(data.size())),
        "message for " + subject);
  MsgPtr msg(raw);
  for (const Header& h : headers)
    check(natsMsgHeader_Set(raw, h.key.c_str(), h.value.c_str()), "message header " + h.key);
  check(natsMsgHeader_Set(raw, "Nats-Msg-Id", msg_id.c_str()), "message header Nats-Msg-Id");
  natsStatus s = natsConnection_PublishMsg(connection_, raw);
  msg.reset();
  if (s != NATS_OK) return fail(s, natsStatus_GetText(s));
  // The stream's answer, as JetStream's publish waits for it (5 s); answers to earlier attempts
  // that come late are dropped.
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return fail(NATS_TIMEOUT, "no acknowledgement from the stream within 5 s");
    natsMsg* got = nullptr;
    s = natsSubscription_NextMsg(&got, ack_sub_, left);
    if (s == NATS_SLOW_CONSUMER) continue;  // some answers were dropped; ours may still come
    if (s != NATS_OK) return fail(s, natsStatus_GetText(s));
    MsgPtr answer(got);
    if (reply != natsMsg_GetSubject(got)) continue;
    const std::string status = status_code(got);
    if (!status.empty()) {
      return fail(NATS_NO_RESPONDERS,
                  status == "503" ? "no stream takes it (no responders)" : "status " + status);
    }
    const auto body = nlohmann::json::parse(
        natsMsg_GetData(got), natsMsg_GetData(got) + natsMsg_GetDataLength(got), nullptr, false);
    if (!body.is_object()) return fail(NATS_ERR, "the stream's acknowledgement is not JSON");
    if (const auto e = body.find("error"); e != body.end()) {
      std::string text = "error";
      if (e->is_object()) {
        if (const auto d = e->find("description"); d != e->end() && d->is_string())
          text = d->get<std::string>();
        if (const auto c = e->find("err_code"); c != e->end())
          text += " (JetStream error " + c->dump() + ")";
      }
      return fail(NATS_ERR, text);
    }
    const auto duplicate = body.find("duplicate");
    a.ok = true;
    a.duplicate = duplicate != body.end() && duplicate->is_boolean() && duplicate->get<bool>();
    return a;
  }
}

void NatsSession::ensure_consumer(const std::string& stream, const std::string& subject,
                                  const std::string& durable) {
  // The first program to need the durable consumer creates it (its acknowledgement wait then
  // holds for every worker); later ones take it as it is, whatever their own --ack-wait.
  jsConsumerInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&info, js_, stream.c_str(), durable.c_str(), nullptr, &err);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(info);
    return;
  }
  if (err != JSConsumerNotFoundErr && s != NATS_NOT_FOUND)
    check(s, "consumer " + durable + " on stream " + stream, err);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = durable.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = static_cast<int64_t>(options_.ack_wait.count()) * 1'000'000;
  cc.MaxDeliver = -1;  // redelivery after a dead worker never gives up; throws are counted
  cc.FilterSubject = subject.c_str();
  err = static_cast<jsErrCode>(0);
  s = js_AddConsumer(&info, js_, stream.c_str(), &cc, nullptr, &err);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(info);
    return;
  }
  // Another worker may have created it in between.
  info = nullptr;
  err = static_cast<jsErrCode>(0);
  check(js_GetConsumerInfo(&info, js_, stream.c_str(), durable.c_str(), nullptr, &err),
        "consumer " + durable + " on stream " + stream, err);
  jsConsumerInfo_Destroy(info);
}

void NatsSession::delete_consumer(const std::string& stream, const std::string& durable) {
  jsErrCode err = static_cast<jsErrCode>(0);
  js_DeleteConsumer(js_, stream.c_str(), durable.c_str(), nullptr, &err);  // best effort
}

std::string header(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || !value) return {};
  return value;
}

uint64_t deliveries(natsMsg* msg) {
  // "$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>", or
  // with "<domain>.<account hash>." after "$JS.ACK." (and a token after the pending count).
  const char* reply = natsMsg_GetReply(msg);
  if (!reply) return 1;
  std::vector<std::string> tokens;
  std::string token;
  for (const char* c = reply;; ++c) {
    if (*c == '.' || *c == 0) {
      tokens.push_back(token);
      token.clear();
      if (*c == 0) break;
    } else {
      token += *c;
    }
  }
  if (tokens.size() != 9 && tokens.size() != 11 && tokens.size() != 12) return 1;
  if (tokens[0] != "$JS" || tokens[1] != "ACK") return 1;
  const size_t at = tokens.size() == 9 ? 4 : 6;
  const uint64_t n = parse_count(tokens[at]);
  return n == 0 ? 1 : n;
}

std::string status_code(natsMsg* msg) {
  if (natsMsg_GetDataLength(msg) > 0) return {};
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, "Status", &value) != NATS_OK || !value) return {};
  return value;
}

}  // namespace pipecut::remote
