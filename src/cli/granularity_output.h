#pragma once
// plan --granularity: the table of the best split per K, as text, JSON and an SVG chart.
#include <ostream>
#include <string>

#include "cli/split_options.h"
#include "pipecut/json.h"
#include "pipecut/network_plan.h"

namespace pipecut::cli {

void print_granularity(std::ostream& out, const Model& model, const Granularity& table,
                       const SplitArgs& args);
nlohmann::ordered_json granularity_json(const Model& model, const Granularity& table,
                                        const SplitArgs& args);
// Slowest stage and latency against K, the knee marked, rows over the worker memory hollow.
std::string granularity_svg(const Granularity& table, const std::string& title);

}  // namespace pipecut::cli
