#include "cli/remote_options.h"

#include <cmath>

namespace pipecut::cli {

void add_remote_options(CLI::App& cmd, RemoteArgs& args) {
  cmd.add_option("tree", args.tree, "folder written by pipecut split")->required();
  cmd.add_option("--folder", args.folder,
                 "the tree's folder to serve: full_split (default), pairs_k2, ...");
  cmd.add_option("--nats", args.nats.url, "NATS server URL")->capture_default_str();
  cmd.add_option("--nats-creds", args.nats.creds_file, "NATS credentials file (JWT and NKey seed)")
      ->check(CLI::ExistingFile);
  cmd.add_option("--tls-ca", args.nats.tls_ca, "CA certificate(s) of the server (PEM)")
      ->check(CLI::ExistingFile);
  cmd.add_option("--tls-cert", args.nats.tls_cert, "client certificate (PEM), with --tls-key")
      ->check(CLI::ExistingFile);
  cmd.add_option("--tls-key", args.nats.tls_key, "client key (PEM)")->check(CLI::ExistingFile);
  cmd.add_option("--storage", args.storage,
                 "where the stage queues keep frames: file (survives a server restart) or memory")
      ->capture_default_str()
      ->check(CLI::IsMember({"file", "memory"}));
  cmd.add_option("--ack-wait", args.ack_wait_s,
                 "seconds before a frame a worker did not acknowledge goes to another worker")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd.add_option("--max-attempts", args.nats.max_attempts,
                 "deliveries of a frame that makes a stage throw before it is reported failed")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
}

NatsOptions to_nats_options(const RemoteArgs& args) {
  NatsOptions o = args.nats;
  o.memory_storage = args.storage == "memory";
  o.ack_wait = std::chrono::milliseconds(std::llround(args.ack_wait_s * 1000));
  return o;
}

}  // namespace pipecut::cli
