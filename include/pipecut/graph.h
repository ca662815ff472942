#pragma once
// Who produces and who consumes each tensor, in the stored execution order.
#include <vector>

#include "pipecut/model.h"

namespace pipecut {

struct Graph {
  explicit Graph(const Model& model);

  std::vector<int> producer;                // per tensor: op index, or -1
  std::vector<std::vector<int>> consumers;  // per tensor: op indices, ascending
  std::vector<bool> is_input, is_output;    // per tensor: a model input / output
  // Activations are what flows between ops: model inputs and op outputs, never constants.
  bool is_activation(int tensor) const { return producer[tensor] >= 0 || is_input[tensor]; }
  // Read by an op after `position`, or a model output (read at the end).
  bool used_after(int tensor, int position) const {
    const auto& readers = consumers[static_cast<size_t>(tensor)];
    return is_output[static_cast<size_t>(tensor)] ||
           (!readers.empty() && readers.back() > position);
  }
};

}  // namespace pipecut
