#pragma once
// What a model costs and where it can be cut.
#include <cstdint>
#include <string>
#include <vector>

#include "pipecut/graph.h"
#include "pipecut/model.h"

namespace pipecut {

// Parameter bytes per op: the constant buffers it reads (weights, biases, other constant inputs).
// A buffer read by several ops is counted once per model, at its first reader, so the per-op
// figures add up to the model's total.
std::vector<int64_t> op_param_bytes(const Model& model);

// Estimated serialized bytes per op (its parameters plus the tensor and op tables it adds), for
// --size-metric file. Adds up to about the file size; meta.json always reports the real size.
std::vector<int64_t> op_file_bytes(const Model& model);

struct CutCandidate {
  int position = -1;                 // the cut lies after this op (execution-order index)
  std::vector<int> tensors;          // activations live across the cut, ascending tensor index
  int64_t crossing_bytes = 0;        // their total size
  int64_t params_before = 0;         // parameter bytes of ops 0..position
  std::vector<std::string> reasons;  // every reason it cannot be used; empty when usable
  bool usable() const { return reasons.empty(); }
};

// The activations live across the cut after op `position`: made at or before it (model inputs
// count as made before op 0) and read after it or a model output. Ascending tensor index.
std::vector<int> live_after(const Model& model, const Graph& graph, int position);

// Positions where at most `max_tensors` activations are live. A single-tensor candidate also needs
// every op to be upstream or downstream of its tensor, so the set does not depend on the execution
// order the file stores. Reasons: dynamic shape, not 8-bit, more than 4 dimensions, produced by an
// op the Edge TPU cannot run.
struct CandidateOptions {
  int max_tensors = 1;             // report positions with up to this many live activations
  bool require_edgetpu_op = true;  // disqualify cuts after an op the Edge TPU cannot run
};
std::vector<CutCandidate> find_cut_candidates(const Model& model, const Graph& graph,
                                              const CandidateOptions& options = {});

// Resolves a user's name for an activation tensor: the exact tensor name; a layer name equal to
// consecutive '/'-components of a tensor name ("conv4_block4_out" finds
// "model/conv4_block4_out/Relu;model/conv4_block4_add/add", "expanded_conv_2/project" a TF1 name),
// preferring the converter's primary (first ';') name; or a regular expression matching the whole
// name. When a layer yields a chain of tensors, its last one is the layer's output. Throws
// pipecut::Error listing the close matches when the name is missing or ambiguous.
int find_tensor(const Model& model, const Graph& graph, const std::string& query);

// The short layer name of a tensor: its first ';'-part without the model or scope prefix and the
// op suffix ("model/conv4_block4_out/Relu;..." -> "conv4_block4_out",
// "MobilenetV2/expanded_conv_2/project/add_fold" -> "expanded_conv_2/project").
std::string short_tensor_name(const std::string& tensor_name);

// The PyTorch module a tensor of an ONNX export came from, as a dotted path: "layer1.1.relu_1"
// for "/layer1/layer1.1/relu_1/Relu_output_0"; "" for names without PyTorch's scopes.
std::string pytorch_module(const std::string& tensor_name);

}  // namespace pipecut

namespace pipecut {

// Multiply-accumulates per op for convolutions, depthwise convolutions and fully-connected
// layers (from the output and weight shapes); 0 for other ops. 2 x the sum is the "ops" figure
// GOPS rates use.
std::vector<int64_t> op_macs(const Model& model);

}  // namespace pipecut
