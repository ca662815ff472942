// What each op costs to compute on a CPU worker: measured (the JSON of `run --profile --json`) or
// from its multiply-accumulates at a given rate.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "pipecut/network_plan.h"

namespace pipecut {

namespace {

bool reshape_like(const std::string& type) {
  return type == "RESHAPE" || type == "SQUEEZE" || type == "EXPAND_DIMS";
}

}  // namespace

std::vector<double> op_ms_from_macs(const Model& model, double macs_per_second,
                                    double macs_per_element) {
  if (!(macs_per_second > 0)) throw Error("op_ms_from_macs: the rate must be above 0");
  if (!(macs_per_element >= 0)) throw Error("op_ms_from_macs: the weight per element is negative");
  const std::vector<int64_t> macs = op_macs(model);
  std::vector<double> ms(model.ops().size(), 0.0);
  for (const Op& op : model.ops()) {
    double work = static_cast<double>(macs[static_cast<size_t>(op.index)]);
    if (work == 0 && !reshape_like(model.op_type(op))) {
      int64_t elements = 0;
      for (int t : op.outputs)
        if (t >= 0) elements += model.tensor(t).num_elements();
      work = macs_per_element * static_cast<double>(elements);
    }
    ms[static_cast<size_t>(op.index)] = work / macs_per_second * 1000.0;
  }
  return ms;
}

std::vector<double> read_op_costs(const std::filesystem::path& file, const Model& model) {
  const std::string name = file.string();
  std::ifstream in(file);
  if (!in) throw Error(name + ": cannot read the op costs");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded())
    throw Error(name + ": not JSON (expected `pipecut run MODEL --profile --json`)");
  const nlohmann::json& profile = j.is_object() && j.contains("profile") ? j["profile"] : j;
  if (!profile.is_object() || !profile.contains("ops") || !profile["ops"].is_array()) {
    throw Error(name +
                ": no per-op times (\"profile\": {\"ops\": [...]}); write them with "
                "`pipecut run MODEL --profile --json`");
  }
  const int ops = static_cast<int>(model.ops().size());
  if (profile.contains("model_ops")) {
    const nlohmann::json& count = profile["model_ops"];
    if (!count.is_number_integer() || count.get<int64_t>() != ops) {
      throw Error(name + ": profiles a model of " + count.dump() + " ops; " + model.origin() +
                  " has " + std::to_string(ops));
    }
  }
  std::vector<double> ms(static_cast<size_t>(ops), 0.0);
  std::vector<bool> seen(static_cast<size_t>(ops), false);
  for (const nlohmann::json& entry : profile["ops"]) {
    if (!entry.is_object() || !entry.contains("op_index") ||
        !entry["op_index"].is_number_integer() || !entry.contains("op_type") ||
        !entry["op_type"].is_string() || !entry.contains("ms") || !entry["ms"].is_number()) {
      throw Error(name + ": an entry of \"ops\" lacks op_index, op_type or ms: " +
                  entry.dump().substr(0, 80));
    }
    const int64_t index = entry["op_index"].get<int64_t>();
    if (index < 0 || index >= ops) {
      throw Error(name + ": op " + std::to_string(index) + " is not in " + model.origin() +
                  ", which has " + std::to_string(ops) + " ops");
    }
    const Op& op = model.ops()[static_cast<size_t>(index)];
    const std::string type = entry["op_type"].get<std::string>();
    if (type != model.op_type(op)) {
      throw Error(name + ": op " + std::to_string(index) + " is " + type + " there but " +
                  model.op_type(op) + " in " + model.origin() + " (profiled another model?)");
    }
    if (entry.contains("output") && entry["output"].is_string() && !op.outputs.empty() &&
        op.outputs[0] >= 0 &&
        entry["output"].get<std::string>() != model.tensor(op.outputs[0]).name) {
      throw Error(name + ": op " + std::to_string(index) + " writes '" +
                  entry["output"].get<std::string>() + "' there but '" +
                  model.tensor(op.outputs[0]).name + "' in " + model.origin() +
                  " (profiled another model?)");
    }
    const double value = entry["ms"].get<double>();
    if (!std::isfinite(value) || value < 0)
      throw Error(name + ": op " + std::to_string(index) + " has a time of " + entry["ms"].dump() +
                  " ms");
    if (seen[static_cast<size_t>(index)])
      throw Error(name + ": op " + std::to_string(index) + " is listed twice");
    seen[static_cast<size_t>(index)] = true;
    ms[static_cast<size_t>(index)] = value;
  }
  if (std::find(seen.begin(), seen.end(), true) == seen.end())
    throw Error(name + ": lists no op times");
  return ms;
}

}  // namespace pipecut
