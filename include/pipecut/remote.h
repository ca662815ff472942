#pragma once
// A split tree's segments as workers on other hosts, over NATS JetStream (docs/serve.md).
//
// Every stage of a tree folder (full_split/ or pairs_kN/) has its own JetStream work queue, named
// after the folder's identity (a hash of the source model's hash and the folder's file hashes),
// so two models or two splits never share a queue. A worker pulls one frame from its stage's
// durable consumer, runs its segment, publishes the tensors the later stages need to the next
// stage's queue (or the result to the client's reply subject), and only then acknowledges.
//
// Delivery: at least once below, exactly once above. Every publish carries a message id made of
// the client's run id, the frame number and the stage, so JetStream drops the second copy a
// worker that died between its publish and its acknowledgement sends again; a frame a worker
// never acknowledged is redelivered after the acknowledgement wait; the client keeps the first
// result of each frame. A frame that makes a stage throw is retried (other workers may take it)
// up to `max_attempts` deliveries, then reported to the client as failed with the stage's reason.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipecut/runtime.h"

namespace pipecut {

struct NatsOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string creds_file;  // NATS credentials (user JWT and NKey seed), as `nats --creds`
  std::string tls_ca;      // CA certificate(s) that signed the server's (PEM)
  std::string tls_cert;    // client certificate and key, for servers that verify clients (PEM)
  std::string tls_key;
  bool memory_storage = false;  // streams in memory: faster, lost when the server restarts
  // How long JetStream waits for a worker's acknowledgement before it hands the frame to another
  // worker: longer than a stage's slowest frame, short enough that a dead worker costs little.
  std::chrono::milliseconds ack_wait{5000};
  int max_attempts = 3;  // deliveries of a frame that makes a stage throw before it is failed
};

// The queues of one tree folder: stream and subject names, and what each stage reads and sends.
struct RemoteLayout {
  std::string id;  // 16 hex digits of the folder's identity
  struct Stage {
    std::filesystem::path file;
    std::string stream, subject;        // the stage's work queue
    std::vector<std::string> forwards;  // tensors it sends on: its outputs and ride-alongs
    int64_t largest_message = 0;        // bytes of what it publishes, header included
  };
  std::vector<Stage> stages;
  std::vector<TensorSpec> inputs;   // what the client sends to stage 1 (every model input)
  std::vector<TensorSpec> outputs;  // what the client gets back, in order
  std::string results_stream;       // every client's results, one subject per client run
  std::string results_subject(const std::string& run) const;
  // Sets the stream and subject names from `id` (remote_layout does; for hand-made layouts).
  void name_queues();
};
// Reads the folder of a split tree ("full_split" by default); throws pipecut::Error.
RemoteLayout remote_layout(const std::filesystem::path& tree, const std::string& folder = {});

struct WorkerStats {
  uint64_t frames = 0;           // frames run and acknowledged
  uint64_t redelivered = 0;      // of those, frames another worker (or this one) had before
  uint64_t failed_attempts = 0;  // runs that threw
  // Inside the segment's run(), summed over the frames run: wall time, and the worker thread's
  // CPU time (below the wall time when other processes share the cores).
  std::chrono::nanoseconds run_total{0}, cpu_total{0};
};

// Workers of one or more stages in this process: `workers` threads per stage, each with its own
// connection and CPU executable. Creates the streams it needs (file-backed unless
// NatsOptions::memory_storage). Throws pipecut::Error at construction when the server cannot be
// reached or refuses a message size the stage would need (before any frame is taken).
class StageWorkers {
 public:
  struct Options {
    std::vector<int> stages;  // 1-based; empty: every stage
    // Per stage. Workers of a stage share its queue: on a host that runs the whole tree, one
    // per core and stage lets a core that runs dry take any stage's next frame, where with one
    // per stage it idles while frames wait for a worker busy on the other core (docs/serve.md).
    int workers = 1;
    int threads = 1;  // CPU threads per worker
    // How the workers share cores with the tree's other stages. kEqual: the kernel's fair share.
    // kMacs: each worker thread raises its nice value by one step per factor of 1.25 its stage's
    // work (multiply-accumulates, 60 per output element for ops without any, and 10^8 for the
    // hop) is below the tree's costliest stage (as Pipeline weighs its stages), so that when
    // several `serve` processes share a host's cores the costliest stage is not held to an equal
    // share while a core idles. Nice weighs threads within one scheduling group only (with
    // autogroup, one session). kAuto: kMacs when this object's worker threads outnumber the
    // usable cores, else kEqual (a lone worker per host gains nothing and would only yield to the
    // host's other programs).
    enum class Weights { kAuto, kEqual, kMacs };
    Weights weights = Weights::kAuto;
    // Binds each worker thread (and its connection's threads) to one CPU, the tree's stages
    // spread over this process's CPUs by their work as pipecut::stage_cpus does. With `workers`
    // above 1 each worker carries an equal part of its stage's work and a stage's workers go to
    // different CPUs (while there are enough). Every process plans for the whole tree, so `serve`
    // processes for different stages on one host place them alike (given the same `workers`); a
    // second process for the same stage gets the same CPUs (leave it unpinned). For hosts that run
    // the whole tree, where the load balancer otherwise leaves a core idle while a worker waits on
    // the other; a host shared with other work is better left unpinned. With `threads` above 1 the
    // constructor refuses it (a stage's helper threads would share a core). Reads every stage file
    // of the tree, as kMacs does.
    bool pin = false;
    // Called before each run with (stage, frame); a throw counts as the stage throwing. For tests
    // and fault injection.
    std::function<void(int stage, uint64_t frame)> before_run;
    // Makes a worker's executable for a stage; default: the stage's file on the CPU runtime with
    // `threads` threads. For benchmarks of the transport alone. A layout stage without a file
    // is weighed by its hop alone.
    std::function<std::unique_ptr<Executable>(int stage)> make_stage;
  };
  StageWorkers(const RemoteLayout& layout, const NatsOptions& nats, const Options& options);
  ~StageWorkers();  // stop(), then joins: a frame in progress is finished and acknowledged
  StageWorkers(const StageWorkers&) = delete;
  StageWorkers& operator=(const StageWorkers&) = delete;
  void stop();  // asks every worker to leave after its current frame; returns at once
  // Blocks until stop() or until a worker fails for good (the server gone for longer than the
  // reconnect window); returns that worker's reason, or empty after stop().
  std::string wait();
  std::vector<WorkerStats> stats() const;  // per stage served, in Options::stages order
  // The nice steps each served stage's workers ask for, in Options::stages order (all 0 unless
  // weighted). A worker takes fewer at nice 19, and none where the kernel refuses.
  std::vector<int> nice_steps() const;
  // The CPU each served stage's workers are planned to bind themselves to, in Options::stages
  // order, one per worker; -1 each unless Options::pin (or where the kernel does not tell the
  // CPUs). A CPU the kernel then refuses (a cpuset changed since) leaves the worker unbound, as
  // binding is a hint.
  std::vector<std::vector<int>> cpus() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One frame's outcome at the client.
struct RemoteResult {
  uint64_t frame = 0;
  bool failed = false;
  std::string reason;                   // when failed: "stage 3 (seg3.tflite): ..."
  std::vector<TensorValue> outputs;     // in RemoteLayout::outputs order
  uint64_t redelivered = 0;             // deliveries beyond the first, over all stages
  std::chrono::nanoseconds latency{0};  // from push() to the result's arrival
};

struct RemoteStats {
  uint64_t pushed = 0, results = 0, failed = 0;
  uint64_t duplicates = 0;   // results that arrived again and were dropped
  uint64_t redelivered = 0;  // sum over results
};

// The client side, like Pipeline: push() frames, pop() results in push order. At most one thread
// pushes and one pops; stats() and cancel() may be called from any thread.
class RemotePipeline {
 public:
  RemotePipeline(const RemoteLayout& layout, const NatsOptions& nats);
  ~RemotePipeline();  // deletes this run's result consumer
  RemotePipeline(const RemotePipeline&) = delete;
  RemotePipeline& operator=(const RemotePipeline&) = delete;
  const std::vector<TensorSpec>& inputs() const;
  // Sends one frame (values in inputs() order); returns its number (0, 1, ...).
  uint64_t push(const std::vector<TensorValue>& inputs);
  // The next result in push order; waits up to `timeout` for it (throws pipecut::Error naming the
  // frame on timeout). nullopt when every frame pushed so far has been popped: with a producer
  // thread and a consumer thread, pop only as many frames as push() has returned.
  std::optional<RemoteResult> pop(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  RemoteStats stats() const;
  // Makes a pop() in progress (within half a second) and every later one throw "cancelled", so
  // that the caller can unwind and the destructor remove this run's consumer. Any thread.
  void cancel();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The same folder run in this process, stage after stage: what a served tree must return, bit
// for bit (infer --check compares with it).
class LocalCascade {
 public:
  explicit LocalCascade(const RemoteLayout& layout);
  ~LocalCascade();
  // `inputs` in RemoteLayout::inputs order; returns RemoteLayout::outputs in order.
  std::vector<TensorValue> run(const std::vector<TensorValue>& inputs);

 private:
  RemoteLayout layout_;
  std::vector<std::unique_ptr<Executable>> stages_;
};

}  // namespace pipecut
