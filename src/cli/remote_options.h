#pragma once
// The NATS options serve and infer share: server, credentials, TLS, storage, acknowledgement wait.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "pipecut/remote.h"

namespace pipecut::cli {

struct RemoteArgs {
  std::string tree;
  std::string folder;  // empty: full_split
  NatsOptions nats;
  std::string storage = "file";
  double ack_wait_s = 5;
};

void add_remote_options(CLI::App& cmd, RemoteArgs& args);
// NatsOptions from the parsed arguments (storage and ack wait applied).
NatsOptions to_nats_options(const RemoteArgs& args);

}  // namespace pipecut::cli
