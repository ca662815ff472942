// pipecut slice MODEL --from T --to T -o FILE: one arbitrary range as its own model.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "pipecut/analysis.h"
#include "pipecut/json.h"
#include "pipecut/layout.h"
#include "pipecut/onnx_import.h"
#include "pipecut/sizes.h"
#include "pipecut/slicer.h"

namespace pipecut::cli {

namespace {
struct SliceArgs {
  std::string model, from, to, output;
  bool force = false;
  bool json = false;
};
}  // namespace

void add_slice(CLI::App& app) {
  auto args = std::make_shared<SliceArgs>();
  CLI::App* cmd =
      app.add_subcommand("slice", "Extract the ops between two tensors as a model of its own");
  cmd->add_option("model", args->model, ".tflite file, or .onnx (imported on the fly, see import)")
      ->required();
  cmd->add_option("--from", args->from, "start after this tensor (a model input: from the start)")
      ->required();
  cmd->add_option("--to", args->to, "end with the op that produces this tensor")->required();
  cmd->add_option("-o,--output", args->output, "output .tflite file")->required();
  cmd->add_flag("--force", args->force, "replace an existing output file");
  cmd->add_flag("--json", args->json, "print what was written as JSON");
  cmd->callback([args] {
    const Model model = load_model_file(args->model);
    const Graph graph(model);
    const int from = find_tensor(model, graph, args->from);
    const int to = find_tensor(model, graph, args->to);
    const SegmentPlan plan = plan_tensor_range(model, graph, from, to);
    const auto bytes = write_segment(model, plan);
    write_model_file(args->output, bytes, args->force);
    if (args->json) {
      nlohmann::ordered_json ins = nlohmann::ordered_json::array(),
                             outs = nlohmann::ordered_json::array();
      for (int t : plan.inputs) ins.push_back(tensor_json(model.tensor(t)));
      for (int t : plan.outputs) outs.push_back(tensor_json(model.tensor(t)));
      std::cout << nlohmann::ordered_json{{"file", args->output},
                                          {"ops", {plan.first_op, plan.last_op}},
                                          {"inputs", ins},
                                          {"outputs", outs},
                                          {"param_bytes", plan.param_bytes},
                                          {"file_bytes", bytes.size()}}
                       .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
      return;
    }
    std::cout << args->output << ": ops " << plan.first_op << ".." << plan.last_op << ", params "
              << format_size(plan.param_bytes) << ", file "
              << format_size(static_cast<int64_t>(bytes.size())) << "\n";
    for (int t : plan.inputs) std::cout << "  in:  " << model.tensor(t).name << "\n";
    for (int t : plan.outputs) std::cout << "  out: " << model.tensor(t).name << "\n";
  });
}

}  // namespace pipecut::cli
