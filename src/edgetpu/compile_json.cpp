#include "edgetpu/compile_json.h"

#include <fstream>

#include "layout/meta_json.h"
#include "pipecut/error.h"
#include "pipecut/files.h"

namespace pipecut {

namespace {

template <typename T>
void put(nlohmann::ordered_json& json, const char* key, const std::optional<T>& value) {
  if (value) json[key] = *value;
}

}  // namespace

nlohmann::ordered_json compiled_model_json(const CompiledModelReport& m) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  if (!m.input_model.empty()) json["input_model"] = m.input_model;
  put(json, "input_bytes", m.input_bytes);
  put(json, "output_bytes", m.output_bytes);
  put(json, "on_chip_used_bytes", m.on_chip_used);
  put(json, "on_chip_remaining_bytes", m.on_chip_remaining);
  put(json, "on_chip_available_bytes", m.on_chip_available);
  put(json, "off_chip_used_bytes", m.off_chip_used);
  put(json, "subgraphs", m.subgraphs);
  put(json, "total_ops", m.total_ops);
  put(json, "ops_on_edgetpu", m.ops_on_tpu);
  put(json, "ops_on_cpu", m.ops_on_cpu);
  nlohmann::ordered_json ops = nlohmann::ordered_json::array();
  for (const auto& op : m.operators)
    ops.push_back({{"op", op.op}, {"count", op.count}, {"status", op.status}});
  json["operators"] = ops;
  json["complete"] = m.complete;
  return json;
}

nlohmann::ordered_json file_compile_json(const FileCompileResult& r,
                                         const std::filesystem::path& compiler) {
  nlohmann::ordered_json json = {{"source", "compiled"},
                                 {"ok", r.ok},
                                 {"compiler", compiler.string()},
                                 {"compiler_version", r.compiler_version}};
  if (!r.ok) json["failure"] = r.failure;
  if (!r.output.empty()) json["output"] = r.output;
  if (!r.log.empty()) json["log"] = r.log;
  json["transcript"] = r.transcript;
  if (!r.compiled_as.empty()) json["compiled_as"] = r.compiled_as;
  json["seconds"] = r.seconds;
  json["report"] = compiled_model_json(r.report);
  json["report_complete"] = r.report_complete;
  return json;
}

void set_file_records(const std::filesystem::path& folder, const std::string& key,
                      const std::map<std::string, nlohmann::ordered_json>& records) {
  const auto path = folder / "meta.json";
  nlohmann::ordered_json meta = read_meta_file(path);
  if (!meta.contains("files") || !meta["files"].is_array())
    throw Error(path.string() + ": malformed (no \"files\" list)");
  size_t found = 0;
  for (auto& entry : meta["files"]) {
    if (!entry.contains("file") || !entry["file"].is_string()) continue;
    const auto it = records.find(entry["file"].get<std::string>());
    if (it == records.end()) continue;
    entry[key] = it->second;
    ++found;
  }
  if (found != records.size()) throw Error(path.string() + ": does not list every file it holds");
  write_file_atomic(path,
                    meta.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace pipecut
