#pragma once
// Segments as ranges of the execution order, and their files. Boundary tensors keep their names,
// types, shapes and quantization, so chained segments compute what the whole model computes.
#include <cstdint>
#include <string>
#include <vector>

#include "pipecut/graph.h"
#include "pipecut/model.h"
#include "pipecut/model_writer.h"

namespace pipecut {

struct SegmentPlan {
  int first_op = 0;  // inclusive range of execution-order op indices
  int last_op = -1;
  std::vector<int> inputs;   // activations it reads that the model input or an earlier op made
  std::vector<int> outputs;  // activations it makes that a later op or the model output needs
  // Parameter bytes attributed to it: the constant buffers whose first reader in the whole
  // model lies in this segment, so the segments' figures add up to the model's (op_param_bytes).
  int64_t param_bytes = 0;
  // The constant bytes its file stores: a buffer shared with an earlier segment is stored again.
  int64_t stored_param_bytes = 0;
  int op_count() const { return last_op - first_op + 1; }
};

// The ops first_op..last_op as one segment. Inputs list model inputs first (model order), then
// the rest by tensor index; outputs list model outputs first (model order), then the rest.
SegmentPlan plan_op_range(const Model& model, const Graph& graph, int first_op, int last_op);

// Segments for cuts after the given ops (ascending, each in [0, ops - 2]).
std::vector<SegmentPlan> plan_segments(const Model& model, const Graph& graph,
                                       const std::vector<int>& cut_positions);

// The .tflite bytes of one segment.
std::vector<uint8_t> write_segment(const Model& model, const SegmentPlan& plan,
                                   const std::string& description = {});
// The same bytes handed to `sink` (see write_submodel_to), without a copy.
void write_segment_to(const Model& model, const SegmentPlan& plan, const PiecesSink& sink);

// The ops strictly after the producer of `from` (or from op 0 when it is a model input) up to
// and including the producer of `to`: what `pipecut slice --from --to` extracts.
SegmentPlan plan_tensor_range(const Model& model, const Graph& graph, int from_tensor,
                              int to_tensor);

}  // namespace pipecut
