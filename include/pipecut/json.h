#pragma once
// JSON renderings of library values, shared by meta.json and the command line's --json output.
#include <nlohmann/json.hpp>

#include "pipecut/analysis.h"
#include "pipecut/model.h"
#include "pipecut/planner.h"

namespace pipecut {

// {"index", "name", "short_name", "shape", "type", "quantization": {"scale", "zero_point", "axis"}}
nlohmann::ordered_json tensor_json(const Tensor& tensor);
nlohmann::ordered_json candidate_json(const Model& model, const CutCandidate& candidate);
// Algorithm, metric, window, cut names, sizes and the algorithm's log.
nlohmann::ordered_json plan_json(const Model& model, const SplitPlan& plan);

}  // namespace pipecut
