#include "layout/meta_json.h"

#include <fstream>
#include <sstream>

#include "pipecut/error.h"
#include "pipecut/json.h"
#include "pipecut/sizes.h"

namespace pipecut {

namespace {

constexpr const char* kToolName = "pipecut 0.1.0";

nlohmann::ordered_json source_json(const Model& model, const std::string& hash) {
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(model.origin(), ec);
  return {{"path", model.origin()},
          {"absolute_path", ec ? model.origin() : absolute.lexically_normal().string()},
          {"hash", hash},
          {"bytes", model.bytes().size()},
          {"ops", model.ops().size()},
          {"tensors", model.tensors().size()}};
}

nlohmann::ordered_json file_json(const Model& model, const WrittenFile& f,
                                 const std::string& folder) {
  nlohmann::ordered_json inputs = nlohmann::ordered_json::array(),
                         outputs = nlohmann::ordered_json::array();
  for (int t : f.plan.inputs) inputs.push_back(tensor_json(model.tensor(t)));
  for (int t : f.plan.outputs) outputs.push_back(tensor_json(model.tensor(t)));
  const std::string rel = f.path.substr(folder.size() + 1);  // relative to the folder
  nlohmann::ordered_json file = {
      {"file", rel},
      {"role", f.role},
      {"segments", {f.first_segment, f.last_segment}},
      {"ops", {{"first", f.plan.first_op}, {"last", f.plan.last_op}, {"count", f.plan.op_count()}}},
      {"inputs", inputs},
      {"outputs", outputs},
      {"param_bytes", f.plan.param_bytes},
      {"stored_param_bytes", f.plan.stored_param_bytes},
      {"file_bytes", f.file_bytes},
      {"hash", f.hash}};
  // Relative to this folder, like "file": "../full_split/tflite/seg1_int8.tflite".
  if (!f.hard_link_of.empty()) file["hard_link_of"] = "../" + f.hard_link_of;
  return file;
}

std::string tensor_summary(const Model& model, const std::vector<int>& tensors) {
  std::string out;
  for (int t : tensors) {
    const Tensor& tensor = model.tensor(t);
    if (!out.empty()) out += ", ";
    out += short_tensor_name(tensor.name) + " [";
    for (size_t i = 0; i < tensor.shape.size(); ++i)
      out += (i ? "x" : "") + std::to_string(tensor.shape[i]);
    out += std::string("] ") + dtype_name(tensor.type);
  }
  return out;
}

}  // namespace

std::string folder_meta_json(const Model& model, const std::string& source_sha,
                             const SplitPlan& plan, const std::string& folder,
                             const std::vector<WrittenFile>& files) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& f : files) list.push_back(file_json(model, f, folder));
  nlohmann::ordered_json meta = {{"tool", kToolName},
                                 {"folder", folder},
                                 {"source", source_json(model, source_sha)},
                                 {"plan", plan_json(model, plan)},
                                 {"files", list}};
  return meta.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string folder_note(const Model& model, const SplitPlan& plan, const std::string& folder,
                        const std::vector<WrittenFile>& files) {
  std::ostringstream out;
  const int k = static_cast<int>(plan.sizes.size());
  out << folder << ": " << model.origin() << " split into " << k << " segments by " << plan.method
      << " (" << size_metric_name(plan.metric) << " window " << format_size(plan.partition.low)
      << " .. " << format_size(plan.partition.high) << ").\n";
  if (folder == "full_split") {
    out << "Run the files in order; each one's outputs are the next one's inputs, by tensor "
           "name.\n";
  } else {
    out << "Run the " << files.size() - 1
        << " segment file(s) in order, then the tail, which holds "
        << "the rest of the model in one file.\n";
  }
  for (const auto& f : files) {
    out << "  " << f.path.substr(folder.size() + 1) << ": ops " << f.plan.first_op << ".."
        << f.plan.last_op << ", params " << format_size(f.plan.param_bytes) << ", file "
        << format_size(f.file_bytes) << "\n    in:  " << tensor_summary(model, f.plan.inputs)
        << "\n    out: " << tensor_summary(model, f.plan.outputs) << "\n";
  }
  return out.str();
}

std::string tree_meta_json(const Model& model, const std::string& source_sha, const SplitPlan& plan,
                           const TreeSummary& summary) {
  nlohmann::ordered_json folders = nlohmann::ordered_json::array();
  std::string last;
  for (const auto& f : summary.files) {
    if (f.folder != last) folders.push_back(f.folder);
    last = f.folder;
  }
  nlohmann::ordered_json meta = {{"tool", kToolName},
                                 {"source", source_json(model, source_sha)},
                                 {"plan", plan_json(model, plan)},
                                 {"folders", folders},
                                 {"files_written", summary.files.size()},
                                 {"bytes_written", summary.bytes_written},
                                 {"bytes_hard_linked", summary.bytes_linked}};
  return meta.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::ordered_json read_meta_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": missing; is this a folder written by pipecut split?");
  try {
    return nlohmann::ordered_json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path.string() + ": not valid JSON (" + e.what() + ")");
  }
}

}  // namespace pipecut
