#pragma once
// The "edgetpu_estimate" record of meta.json and of `pipecut estimate --json`.
#include <nlohmann/json.hpp>
#include <string>

#include "pipecut/edgetpu_estimate.h"

namespace pipecut {

// Marked "source": "estimated"; `with_ops` adds the per-op rows.
nlohmann::ordered_json estimate_json(const EdgeTpuEstimate& estimate, const std::string& link,
                                     bool with_ops);

}  // namespace pipecut
