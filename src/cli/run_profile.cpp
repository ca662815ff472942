#include "cli/run_profile.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/table.h"
#include "pipecut/analysis.h"

namespace pipecut::cli {

namespace {

double op_gops(const Profile& p, const OpTime& t) {
  const int64_t macs = p.macs[static_cast<size_t>(t.op_index)];
  return t.milliseconds > 0 ? 2.0 * static_cast<double>(macs) / (t.milliseconds * 1e6) : 0.0;
}

constexpr size_t kSlowestOpsShown = 10;

}  // namespace

Profile make_profile(const Model& model, std::vector<OpTime> times) {
  Profile p;
  p.macs = op_macs(model);
  for (const Op& op : model.ops()) {
    p.outputs.push_back(op.outputs.empty() || op.outputs[0] < 0 ? ""
                                                                : model.tensor(op.outputs[0]).name);
  }
  for (const OpTime& t : times) {
    p.total_ms += t.milliseconds;
    auto row = std::find_if(p.by_type.begin(), p.by_type.end(),
                            [&](const Profile::TypeRow& r) { return r.type == t.op_type; });
    if (row == p.by_type.end()) row = p.by_type.insert(p.by_type.end(), {t.op_type, 0, 0});
    ++row->ops;
    row->ms += t.milliseconds;
  }
  std::stable_sort(p.by_type.begin(), p.by_type.end(),
                   [](const auto& a, const auto& b) { return a.ms > b.ms; });
  p.ops = std::move(times);
  std::stable_sort(p.ops.begin(), p.ops.end(), [](const OpTime& a, const OpTime& b) {
    return a.milliseconds > b.milliseconds;
  });
  return p;
}

void print_profile(const Profile& p, const Model& model, int runs) {
  std::printf("time per op type (mean of %d profiled runs, %.3f ms in kernels):\n", runs,
              p.total_ms);
  Table types({"op type", "ops", "ms", "share"}, {false, true, true, true});
  for (const auto& r : p.by_type) {
    types.add({r.type, std::to_string(r.ops), fixed(r.ms, 3),
               fixed(100.0 * r.ms / std::max(p.total_ms, 1e-9), 1) + " %"});
  }
  types.print(std::cout);
  std::printf("slowest ops:\n");
  Table ops({"op", "type", "output", "kernel", "ms", "GOPS"},
            {true, false, false, false, true, true});
  for (size_t i = 0; i < std::min(kSlowestOpsShown, p.ops.size()); ++i) {
    const OpTime& t = p.ops[i];
    const Op& op = model.ops()[static_cast<size_t>(t.op_index)];
    const std::string output = op.outputs.empty() || op.outputs[0] < 0
                                   ? ""
                                   : shape_text(model.tensor(op.outputs[0]).shape, 'x');
    const double gops = op_gops(p, t);
    ops.add({std::to_string(t.op_index), t.op_type, output, t.kernel, fixed(t.milliseconds, 3),
             gops > 0 ? fixed(gops, 0) : ""});
  }
  ops.print(std::cout);
}

nlohmann::ordered_json profile_json(const Profile& p, int runs) {
  nlohmann::ordered_json types = nlohmann::ordered_json::array();
  for (const auto& r : p.by_type)
    types.push_back({{"op_type", r.type}, {"ops", r.ops}, {"ms", r.ms}});
  nlohmann::ordered_json ops = nlohmann::ordered_json::array();
  for (const OpTime& t : p.ops) {
    ops.push_back({{"op_index", t.op_index},
                   {"op_type", t.op_type},
                   {"output", p.outputs[static_cast<size_t>(t.op_index)]},
                   {"kernel", t.kernel},
                   {"ms", t.milliseconds},
                   {"macs", p.macs[static_cast<size_t>(t.op_index)]},
                   {"gops", op_gops(p, t)}});
  }
  return {{"runs", runs},
          {"kernel_ms", p.total_ms},
          {"model_ops", p.outputs.size()},
          {"by_type", types},
          {"ops", ops}};
}

}  // namespace pipecut::cli
