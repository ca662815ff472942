#pragma once
// A nats-server with JetStream of the test's own: on 127.0.0.1, a free port, a store under the
// test's folder. Stopped (and its store kept) by stop() or the destructor; start() again reuses
// the port and the store, as a restarted server would.
#include <sys/types.h>

#include <filesystem>
#include <string>

namespace pipecut::testing {

class NatsServer {
 public:
  // `extra_config` is appended to the server's configuration file (e.g. "max_payload: 65536").
  explicit NatsServer(const std::filesystem::path& dir, const std::string& extra_config = "");
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;
  std::string url() const;
  pid_t pid() const { return pid_; }  // -1 while stopped
  void start();  // throws std::runtime_error if it does not accept connections within 10 s
  void stop();   // SIGTERM, then SIGKILL after 10 s

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace pipecut::testing
