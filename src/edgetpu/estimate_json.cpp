#include "edgetpu/estimate_json.h"

namespace pipecut {

nlohmann::ordered_json estimate_json(const EdgeTpuEstimate& e, const std::string& link,
                                     bool with_ops) {
  nlohmann::ordered_json cpu_ops = nlohmann::ordered_json::array();
  for (const auto& op : e.ops) {
    if (!op.on_tpu)
      cpu_ops.push_back(
          {{"op", op.op}, {"type", op.type}, {"layer", op.layer}, {"reason", op.cpu_reason}});
  }
  nlohmann::ordered_json json = {{"source", "estimated"},
                                 {"link", link},
                                 {"param_bytes", e.param_bytes},
                                 {"on_chip_bytes", e.on_chip_bytes},
                                 {"off_chip_bytes", e.off_chip_bytes},
                                 {"cache_bytes", e.cache_bytes},
                                 {"input_bytes", e.input_bytes},
                                 {"output_bytes", e.output_bytes},
                                 {"subgraphs", e.subgraphs},
                                 {"ops_on_edgetpu", e.ops_on_tpu},
                                 {"ops_on_cpu", e.ops_on_cpu},
                                 {"streamed_layers", e.streamed},
                                 {"cpu_ops", cpu_ops},
                                 {"latency_ms",
                                  {{"total", e.latency.total()},
                                   {"invoke", e.latency.invoke},
                                   {"compute", e.latency.compute},
                                   {"stream", e.latency.stream},
                                   {"input", e.latency.input},
                                   {"output", e.latency.output},
                                   {"cpu", e.latency.cpu}}}};
  if (with_ops) {
    nlohmann::ordered_json ops = nlohmann::ordered_json::array();
    for (const auto& op : e.ops) {
      ops.push_back({{"op", op.op},
                     {"type", op.type},
                     {"layer", op.layer},
                     {"on_edgetpu", op.on_tpu},
                     {"param_bytes", op.param_bytes},
                     {"cached", op.cached},
                     {"macs", op.macs},
                     {"ms", op.ms}});
    }
    json["ops"] = ops;
  }
  return json;
}

}  // namespace pipecut
