// Cut candidates by a sweep over the execution order: a tensor is live across the cut after op p
// when it is produced at or before p (model inputs count as produced before op 0) and consumed
// after p (model outputs count as consumed at the end).
#include <set>

#include "pipecut/analysis.h"
#include "pipecut/edgetpu.h"

namespace pipecut {

namespace {

// An op none of whose outputs is used: nothing downstream of it, so it is upstream of no cut.
bool is_dead_end(const Op& op, const Graph& graph) {
  for (int t : op.outputs) {
    if (!graph.consumers[static_cast<size_t>(t)].empty() ||
        graph.is_output[static_cast<size_t>(t)]) {
      return false;
    }
  }
  return true;
}

// An op that reads no activation: it could run anywhere in the order, so it is downstream of none.
bool is_source(const Op& op, const Graph& graph) {
  for (int t : op.inputs) {
    if (t >= 0 && graph.is_activation(t)) return false;
  }
  return true;
}

void add_reasons(const Model& model, const Graph& graph, const CandidateOptions& options,
                 CutCandidate& c) {
  for (int t : c.tensors) {
    const Tensor& tensor = model.tensor(t);
    const std::string label = "'" + short_tensor_name(tensor.name) + "'";
    // TensorFlow exports mark the batch dimension dynamic (-1); the CPU runtime runs it as the
    // shape says (1), so for CPU workers only a dynamic dimension past the batch disqualifies.
    bool dynamic = false;
    for (size_t d = 0; d < tensor.shape_signature.size(); ++d) {
      const bool batch = d == 0 && !tensor.shape.empty() && tensor.shape[0] == 1;
      dynamic =
          dynamic || (tensor.shape_signature[d] < 0 && (options.require_edgetpu_op || !batch));
    }
    if (dynamic) c.reasons.push_back(label + " has a dynamic shape");
    // Float32 boundaries are fine between CPU workers; the Edge TPU takes 8-bit tensors only.
    const bool float_ok = tensor.type == DType::kFloat32 && !options.require_edgetpu_op;
    if (!is_8bit(tensor.type) && !float_ok) {
      c.reasons.push_back(label + " is " + dtype_name(tensor.type) + ", not 8-bit" +
                          (tensor.type == DType::kFloat32
                               ? " (the Edge TPU's; --target cpu cuts float models)"
                               : ""));
    }
    if (tensor.shape.size() > 4) {
      c.reasons.push_back(label + " has " + std::to_string(tensor.shape.size()) +
                          " dimensions (at most 4)");
    }
    const int producer = graph.producer[static_cast<size_t>(t)];
    if (options.require_edgetpu_op && producer >= 0) {
      const Op& op = model.ops()[static_cast<size_t>(producer)];
      if (!edgetpu_supports_op(op.builtin_code)) {
        c.reasons.push_back(label + " comes from " + model.op_type(op) +
                            ", which the Edge TPU cannot run");
      }
    }
  }
}

}  // namespace

std::vector<int> live_after(const Model& model, const Graph& graph, int position) {
  std::vector<int> live;
  for (const Tensor& t : model.tensors()) {
    if (graph.is_activation(t.index) && graph.producer[static_cast<size_t>(t.index)] <= position &&
        graph.used_after(t.index, position))
      live.push_back(t.index);
  }
  return live;
}

std::vector<CutCandidate> find_cut_candidates(const Model& model, const Graph& graph,
                                              const CandidateOptions& options) {
  const auto& ops = model.ops();
  const int n = static_cast<int>(ops.size());
  std::vector<CutCandidate> out;
  if (n < 2) return out;

  // When each activation stops being live: its last consumer, or the end for model outputs.
  std::vector<std::vector<int>> dies_at(static_cast<size_t>(n) + 1);
  auto death = [&](int t) {
    if (graph.is_output[static_cast<size_t>(t)]) return n;
    const auto& consumers = graph.consumers[static_cast<size_t>(t)];
    return consumers.empty() ? -1 : consumers.back();
  };
  std::set<int> live;
  for (int t : model.inputs()) {
    const int d = death(t);
    if (d >= 0) {
      live.insert(t);
      dies_at[static_cast<size_t>(d)].push_back(t);
    }
  }

  // Order independence of single-tensor cuts (docs/architecture.md): no dead-end op before the
  // cut and no source op after it.
  std::vector<bool> dead_end_up_to(static_cast<size_t>(n), false);
  std::vector<bool> source_after(static_cast<size_t>(n), false);
  for (int p = 0; p < n; ++p) {
    dead_end_up_to[static_cast<size_t>(p)] =
        (p > 0 && dead_end_up_to[static_cast<size_t>(p) - 1]) ||
        is_dead_end(ops[static_cast<size_t>(p)], graph);
  }
  for (int p = n - 2; p >= 0; --p) {
    source_after[static_cast<size_t>(p)] = source_after[static_cast<size_t>(p) + 1] ||
                                           is_source(ops[static_cast<size_t>(p) + 1], graph);
  }

  const std::vector<int64_t> params = op_param_bytes(model);
  int64_t params_before = 0;
  for (int p = 0; p + 1 < n; ++p) {
    const Op& op = ops[static_cast<size_t>(p)];
    params_before += params[static_cast<size_t>(p)];
    for (int t : op.outputs) {
      const int d = death(t);
      if (d > p) {
        live.insert(t);
        dies_at[static_cast<size_t>(d)].push_back(t);
      }
    }
    for (int t : dies_at[static_cast<size_t>(p)]) live.erase(t);
    if (live.empty() || static_cast<int>(live.size()) > options.max_tensors) continue;
    if (live.size() == 1 &&
        (dead_end_up_to[static_cast<size_t>(p)] || source_after[static_cast<size_t>(p)])) {
      continue;  // one live tensor here, but only because of this particular op order
    }
    CutCandidate c;
    c.position = p;
    c.tensors.assign(live.begin(), live.end());
    for (int t : c.tensors) c.crossing_bytes += model.tensor(t).byte_size();
    c.params_before = params_before;
    add_reasons(model, graph, options, c);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace pipecut
