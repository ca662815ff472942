#include "remote/nats_session.h"

#include <algorithm>
#include <thread>

#include "pipecut/error.h"

namespace pipecut::remote {

namespace {

using Clock = std::chrono::steady_clock;

// A failure while the connection is still open is retried: the client library reconnects on its
// own (and closes the connection only after its reconnect window), and a restarting server
// refuses JetStream requests for a moment ("JetStream not enabled", no responders). What keeps
// failing for kRetryWindow is reported.
constexpr auto kRetryWindow = std::chrono::seconds(60);
bool open(natsConnection* nc, natsStatus s) {
  return s != NATS_CONNECTION_CLOSED && !natsConnection_IsClosed(nc);
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
}

NatsSession::~NatsSession() {
  for (natsSubscription* sub : subscriptions_) natsSubscription_Destroy(sub);
  jsCtx_Destroy(js_);
  natsConnection_Close(connection_);
  natsConnection_Destroy(connection_);
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
  ensure_work_queue(layout.results_stream, layout.results_subject("*"), std::chrono::hours(1));
}

bool NatsSession::publish(const std::string& subject, std::span<const uint8_t> data,
                          const std::string& msg_id, const std::vector<Header>& headers,
                          std::chrono::milliseconds retry_for) {
  // The same message id on every attempt: a retry after a lost acknowledgement is a duplicate
  // the stream drops, never a second frame.
  const auto deadline = Clock::now() + std::min<std::chrono::milliseconds>(retry_for, kRetryWindow);
  for (;;) {
    natsMsg* raw = nullptr;
    check(natsMsg_Create(&raw, subject.c_str(), nullptr, reinterpret_cast<const char*>(data.data()),
                         static_cast<int>(data.size())),
          "message for " + subject);
    const MsgPtr msg(raw);
    for (const Header& h : headers)
      check(natsMsgHeader_Set(raw, h.key.c_str(), h.value.c_str()), "message header " + h.key);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id.c_str();
    jsPubAck* ack = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    const natsStatus s = js_PublishMsg(&ack, js_, raw, &po, &err);
    if (s == NATS_OK) {
      const bool duplicate = ack && ack->Duplicate;
      jsPubAck_Destroy(ack);
      return duplicate;
    }
    if (!open(connection_, s) || Clock::now() >= deadline)
      check(s, "publishing to " + subject, err);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

natsSubscription* NatsSession::pull_subscribe(const std::string& stream, const std::string& subject,
                                              const std::string& durable) {
  // The first program to need the durable consumer creates it (its acknowledgement wait then
  // holds for every worker); later ones bind to it as it is, whatever their own --ack-wait.
  jsConsumerInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&info, js_, stream.c_str(), durable.c_str(), nullptr, &err);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(info);
  } else {
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
    if (s == NATS_OK) jsConsumerInfo_Destroy(info);
    // Another worker may have created it in between; the bind below then finds it.
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Consumer = durable.c_str();
  natsSubscription* sub = nullptr;
  err = static_cast<jsErrCode>(0);
  check(js_PullSubscribe(&sub, js_, subject.c_str(), durable.c_str(), nullptr, &so, &err),
        "consumer " + durable + " on stream " + stream, err);
  subscriptions_.push_back(sub);
  return sub;
}

MsgPtr NatsSession::fetch_one(natsSubscription* sub, std::chrono::milliseconds wait) {
  natsMsgList list{nullptr, 0};
  jsErrCode err = static_cast<jsErrCode>(0);
  const natsStatus s =
      natsSubscription_Fetch(&list, sub, 1, static_cast<int64_t>(wait.count()), &err);
  if (s == NATS_TIMEOUT) {
    failing_since_.reset();
    return nullptr;
  }
  if (s != NATS_OK) {
    const auto now = Clock::now();
    if (!failing_since_) failing_since_ = now;
    if (!open(connection_, s) || now - *failing_since_ >= kRetryWindow)
      check(s, "fetching a frame", err);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server is away
    return nullptr;
  }
  failing_since_.reset();
  MsgPtr first;
  for (int i = 0; i < list.Count; ++i) {
    if (!first)
      first.reset(list.Msgs[i]);
    else
      natsMsg_Destroy(list.Msgs[i]);  // batch of one: never happens
    list.Msgs[i] = nullptr;
  }
  natsMsgList_Destroy(&list);
  return first;
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
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK || !meta) return 1;
  const uint64_t n = meta->NumDelivered;
  jsMsgMetaData_Destroy(meta);
  return n == 0 ? 1 : n;
}

}  // namespace pipecut::remote
