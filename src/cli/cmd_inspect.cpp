// pipecut inspect MODEL: ops, tensors, parameters and cut candidates.
#include <iostream>
#include <memory>
#include <numeric>

#include "cli/commands.h"
#include "cli/table.h"
#include "pipecut/analysis.h"
#include "pipecut/files.h"
#include "pipecut/json.h"
#include "pipecut/onnx_import.h"
#include "pipecut/sizes.h"

namespace pipecut::cli {

namespace {

struct InspectArgs {
  std::string model;
  bool json = false;
  bool no_ops = false;
  int max_cut_tensors = 1;
  std::string target = "edgetpu";
};

std::string quant_text(const Tensor& t) {
  if (!t.quant.present()) return "-";
  if (t.quant.per_channel()) return "per-channel(" + std::to_string(t.quant.scale.size()) + ")";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g,%lld", t.quant.scale[0],
                static_cast<long long>(t.quant.zero_point.empty() ? 0 : t.quant.zero_point[0]));
  return buf;
}

std::string activation_names(const Model& model, const Graph& graph, const std::vector<int>& list) {
  std::string out;
  for (int t : list) {
    if (t < 0 || !graph.is_activation(t)) continue;
    if (!out.empty()) out += ", ";
    out += short_tensor_name(model.tensor(t).name);
  }
  return out;
}

nlohmann::ordered_json inspect_json(const Model& model, const Graph& graph,
                                    const std::vector<int64_t>& params,
                                    const std::vector<int64_t>& macs,
                                    const std::vector<CutCandidate>& candidates) {
  nlohmann::ordered_json ops = nlohmann::ordered_json::array();
  for (const Op& op : model.ops()) {
    nlohmann::ordered_json inputs = nlohmann::ordered_json::array(),
                           outputs = nlohmann::ordered_json::array();
    for (int t : op.inputs) {
      if (t < 0) continue;
      auto j = tensor_json(model.tensor(t));
      j["constant"] = model.tensor(t).is_constant();
      inputs.push_back(std::move(j));
    }
    for (int t : op.outputs) outputs.push_back(tensor_json(model.tensor(t)));
    ops.push_back(
        {{"index", op.index},
         {"type", model.op_type(op)},
         {"version", op.version},
         {"inputs", inputs},
         {"outputs", outputs},
         {"module",
          op.outputs.empty() ? std::string() : pytorch_module(model.tensor(op.outputs[0]).name)},
         {"param_bytes", params[static_cast<size_t>(op.index)]},
         {"macs", macs[static_cast<size_t>(op.index)]}});
  }
  nlohmann::ordered_json ins = nlohmann::ordered_json::array(),
                         outs = nlohmann::ordered_json::array(),
                         cands = nlohmann::ordered_json::array();
  for (int t : model.inputs()) ins.push_back(tensor_json(model.tensor(t)));
  for (int t : model.outputs()) outs.push_back(tensor_json(model.tensor(t)));
  for (const auto& c : candidates) cands.push_back(candidate_json(model, c));
  const int64_t total = std::accumulate(params.begin(), params.end(), int64_t{0});
  const int64_t total_macs = std::accumulate(macs.begin(), macs.end(), int64_t{0});
  (void)graph;
  return {{"model",
           {{"path", model.origin()},
            {"bytes", model.bytes().size()},
            {"sha256", sha256_hex(model.bytes())},
            {"description", model.description()},
            {"schema_version", model.schema_version()}}},
          {"totals",
           {{"ops", model.ops().size()},
            {"tensors", model.tensors().size()},
            {"param_bytes", total},
            {"macs", total_macs}}},
          {"inputs", ins},
          {"outputs", outs},
          {"ops", ops},
          {"candidates", cands}};
}

void print_text(const Model& model, const Graph& graph, const std::vector<int64_t>& params,
                const std::vector<int64_t>& macs, const std::vector<CutCandidate>& candidates,
                const InspectArgs& args) {
  const int64_t total = std::accumulate(params.begin(), params.end(), int64_t{0});
  const int64_t total_macs = std::accumulate(macs.begin(), macs.end(), int64_t{0});
  std::cout << "model: " << model.origin() << " ("
            << format_size(static_cast<int64_t>(model.bytes().size())) << ")\n";
  if (!model.description().empty()) std::cout << "description: " << model.description() << "\n";
  std::cout << "ops: " << model.ops().size() << "  tensors: " << model.tensors().size()
            << "  parameters: " << format_size(total) << " (" << total << " bytes)"
            << "  multiply-accumulates: " << format_count(total_macs) << "\n";
  for (auto [label, list] :
       {std::pair{"inputs", &model.inputs()}, std::pair{"outputs", &model.outputs()}}) {
    std::cout << label << ":\n";
    for (int t : *list) {
      const Tensor& tensor = model.tensor(t);
      std::cout << "  " << tensor.name << " " << shape_text(tensor.shape, 'x') << " "
                << dtype_name(tensor.type) << " q=" << quant_text(tensor) << "\n";
    }
  }
  if (!args.no_ops) {
    std::cout << "\nops:\n";
    // Models imported from PyTorch's ONNX export name the module each op came from.
    bool modules = false;
    for (const Op& op : model.ops())
      modules = modules ||
                (!op.outputs.empty() && !pytorch_module(model.tensor(op.outputs[0]).name).empty());
    std::vector<std::string> header = {"#",    "op",    "inputs", "output", "shape",
                                       "type", "quant", "params", "MACs"};
    std::vector<bool> right = {true, false, false, false, false, false, false, true, true};
    if (modules) {
      header.insert(header.begin() + 2, "module");
      right.insert(right.begin() + 2, false);
    }
    Table ops(header, right);
    for (const Op& op : model.ops()) {
      const Tensor* out = op.outputs.empty() ? nullptr : &model.tensor(op.outputs[0]);
      std::vector<std::string> row = {
          std::to_string(op.index),
          model.op_type(op),
          activation_names(model, graph, op.inputs),
          out ? short_tensor_name(out->name) +
                    (op.outputs.size() > 1 ? " +" + std::to_string(op.outputs.size() - 1) : "")
              : "-",
          out ? shape_text(out->shape, 'x') : "",
          out ? dtype_name(out->type) : "",
          out ? quant_text(*out) : "",
          format_size(params[static_cast<size_t>(op.index)]),
          format_count(macs[static_cast<size_t>(op.index)])};
      if (modules) row.insert(row.begin() + 2, out ? pytorch_module(out->name) : "");
      ops.add(row);
    }
    ops.print(std::cout);
  }
  int usable = 0;
  for (const auto& c : candidates) usable += c.usable() ? 1 : 0;
  std::cout << "\ncut candidates (up to " << args.max_cut_tensors << " live tensor"
            << (args.max_cut_tensors > 1 ? "s" : "") << "): " << candidates.size() << ", usable "
            << usable << "\n";
  Table table({"after op", "tensor", "shape", "type", "crossing", "params before", "reasons"},
              {true, false, false, false, true, true, false});
  for (const auto& c : candidates) {
    std::string names, shapes, types, reasons;
    for (int t : c.tensors) {
      const Tensor& tensor = model.tensor(t);
      names += (names.empty() ? "" : " + ") + short_tensor_name(tensor.name);
      shapes += (shapes.empty() ? "" : " + ") + shape_text(tensor.shape, 'x');
      types += (types.empty() ? "" : " + ") + std::string(dtype_name(tensor.type));
    }
    for (const auto& r : c.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
    table.add({std::to_string(c.position), names, shapes, types, format_size(c.crossing_bytes),
               format_size(c.params_before), reasons.empty() ? "ok" : reasons});
  }
  table.print(std::cout);
}

}  // namespace

void add_inspect(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Ops, tensors, quantization, parameter bytes and cut candidates of a .tflite");
  cmd->add_option("model", args->model, ".tflite file, or .onnx (imported on the fly, see import)")
      ->required();
  cmd->add_flag("--json", args->json, "print JSON instead of tables");
  cmd->add_flag("--no-ops", args->no_ops, "leave out the per-op table");
  cmd->add_option("--max-cut-tensors", args->max_cut_tensors,
                  "also list cuts where up to N activations are live (branchy nets)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--target", args->target, "edgetpu: cuts must follow an Edge TPU op; cpu: any op")
      ->check(CLI::IsMember({"edgetpu", "cpu"}));
  cmd->callback([args] {
    const Model model = load_model_file(args->model);
    const Graph graph(model);
    CandidateOptions options;
    options.max_tensors = args->max_cut_tensors;
    options.require_edgetpu_op = args->target == "edgetpu";
    const auto params = op_param_bytes(model);
    const auto macs = op_macs(model);
    const auto candidates = find_cut_candidates(model, graph, options);
    if (args->json) {
      std::cout << inspect_json(model, graph, params, macs, candidates)
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    } else {
      print_text(model, graph, params, macs, candidates, *args);
    }
  });
}

}  // namespace pipecut::cli
