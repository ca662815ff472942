#pragma once
// What the Edge TPU compiler will do with a model, and how long a Coral Edge TPU will take,
// estimated without the compiler or a TPU.
//
// The rules and constants were fitted on real compiler reports and latencies measured on
// hardware (../shared/edgetpu-data; tools/edgetpu_fit.py reproduces the fit, docs/estimate.md
// gives the rules and the error per model family). Every figure here is an estimate and
// meta.json marks it so.
#include <cstdint>
#include <string>
#include <vector>

#include "pipecut/model.h"
#include "pipecut/split_tree.h"

namespace pipecut {

// The device and link constants. The defaults are the fit on compiler 16 and a USB 3 Coral.
struct EdgeTpuDevice {
  // Parameter cache when the model's input and output are small (8 MiB of SRAM less what the
  // compiler keeps for itself); a share of the model's input + output bytes is taken from it.
  int64_t cache_bytes = 8192000;
  double io_share = 0.3;
  // Latency of one invoke, in milliseconds: a fixed part, per op, per 10^9 multiply-accumulates
  // of convolutions (channels padded as the TPU lays them out), per MiB of fully-connected
  // weights, per MiB of weights streamed from the host, and per MiB of input and output moved
  // over the link. A convolution whose weights stream costs its compute twice over.
  double invoke_ms = 0.0928;
  double per_op_ms = 0.0046;
  double conv_ms_per_gmac = 1.0655;
  double streamed_conv_ms_per_gmac = 0.9467;
  double fc_ms_per_mib = 0.0104;
  double stream_ms_per_mib = 2.6999;
  double input_ms_per_mib = 1.5759;
  double output_ms_per_mib = 6.5750;
  // Ops the TPU cannot run execute on the host CPU at about this rate.
  double cpu_ms_per_gmac = 20.0;
};

// The device for a link name:
// - "usb3" (the default): the host of ../shared/edgetpu-data, what every constant was fitted on;
// - "usb3-coral": Coral's benchmark desktop (Xeon Gold 6154, USB 3.0, C++ benchmark), whose
//   published latencies imply it streams uncached weights faster: kCoralHostStreamMsPerMib,
//   fitted on those latencies (docs/estimate.md gives the fit and its leave-one-out error);
// - "usb2" (transfers and streaming about 8x slower) or "pcie" (about 2x faster), not calibrated.
// Throws pipecut::Error for another name.
EdgeTpuDevice edgetpu_device(const std::string& link);

// The names edgetpu_device() takes, the default first.
std::vector<std::string> edgetpu_link_names();

// Milliseconds per MiB of weights streamed on Coral's benchmark host ("usb3-coral").
inline constexpr double kCoralHostStreamMsPerMib = 2.0;

struct EstimatedOp {
  int op = -1;
  std::string type;   // "CONV_2D"
  std::string layer;  // short name of its first output tensor
  bool on_tpu = false;
  std::string cpu_reason;   // why it runs on the CPU; empty on the TPU
  int64_t param_bytes = 0;  // weights as the Edge TPU lays them out (channels padded)
  bool cached = false;      // parameters held on chip (false when streamed or when none)
  int64_t macs = 0, padded_macs = 0;
  double ms = 0;  // its share of the estimated latency
};

struct EdgeTpuLatency {
  double invoke = 0, compute = 0, stream = 0, input = 0, output = 0, cpu = 0;
  double total() const { return invoke + compute + stream + input + output + cpu; }
};

struct EdgeTpuEstimate {
  int64_t param_bytes = 0;                    // all TPU ops' parameters in the Edge TPU's layout
  int64_t on_chip_bytes = 0;                  // cached on chip
  int64_t off_chip_bytes = 0;                 // streamed from the host on every inference
  int64_t cache_bytes = 0;                    // the parameter cache this model gets
  int64_t input_bytes = 0, output_bytes = 0;  // moved over the link per inference
  int subgraphs = 0;                          // Edge TPU subgraphs (0 or 1: the compiler maps one)
  int ops_on_tpu = 0, ops_on_cpu = 0;
  std::vector<EstimatedOp> ops;       // one per op, in execution order
  std::vector<std::string> streamed;  // layers whose weights stream
  EdgeTpuLatency latency;             // one invoke on one TPU, in milliseconds
};

// Whether `op` can run on the Edge TPU, and if not why (empty when it can): the documented op
// list, 8-bit tensors, static shapes, at most 3 dimensions larger than 1.
std::string edgetpu_cpu_reason(const Model& model, const Op& op);

// The compiler's choices for this model on its own: which ops map (the compiler maps one run of
// consecutive supported ops; everything after the first op it cannot run stays on the CPU),
// which parameters it caches (in execution order, each layer whose weights still fit), and the
// latency of one invoke. Never throws for a valid Model.
EdgeTpuEstimate estimate_edgetpu(const Model& model, const EdgeTpuDevice& device = {});

struct TreeFileEstimate {
  std::string folder;  // "full_split"
  std::string file;    // "tflite/seg1_int8.tflite", relative to the folder
  EdgeTpuEstimate estimate;
};

// Estimates every file of a split tree, in the tree's order (folders, then their files; hard
// links to one file once) and, when `record_in_meta`, records each under "edgetpu_estimate"
// ("source": "estimated", `link` named) in its folder's meta.json, written atomically. Throws
// pipecut::Error naming a file that is not a valid model.
std::vector<TreeFileEstimate> estimate_split_tree(const SplitTree& tree,
                                                  const EdgeTpuDevice& device,
                                                  const std::string& link,
                                                  bool record_in_meta = true);

}  // namespace pipecut
