// pipecut zoo NAME [--float] -o FILE: standard architectures as INT8 (or float32) TFLite models,
// built in C++.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/table.h"
#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "pipecut/inputs.h"
#include "pipecut/json.h"
#include "pipecut/layout.h"
#include "pipecut/model.h"
#include "pipecut/progress.h"
#include "pipecut/quant.h"
#include "pipecut/runtime.h"
#include "pipecut/sizes.h"
#include "pipecut/zoo.h"

namespace pipecut::cli {

namespace {
struct ZooArgs {
  std::string name, output;
  uint64_t seed = 1;
  bool list = false;
  bool float_model = false;
  int input_size = 0;  // 0: the architecture's own
  int calibrate = 0;   // > 0: the float model calibrated on this many seeded inputs, quantized
  bool force = true;
  bool json = false;
};
}  // namespace

void add_zoo(CLI::App& app) {
  auto args = std::make_shared<ZooArgs>();
  CLI::App* cmd = app.add_subcommand(
      "zoo",
      "Write a built-in INT8 or float32 model (resnet50, resnet101, mobilenet_v2, unet, ...)");
  cmd->add_option("name", args->name, "model name (see --list)");
  cmd->add_option("-o,--output", args->output, "output .tflite file");
  cmd->add_option("--seed", args->seed, "weight seed")->capture_default_str();
  cmd->add_flag("--float", args->float_model,
                "float32 weights and activations (the same graph and names), for pipecut quantize");
  cmd->add_option("--input-size", args->input_size,
                  "input height and width in pixels instead of the architecture's own (e.g. 299 "
                  "for the ResNets as Coral measured them)");
  cmd->add_option("--calibrate", args->calibrate,
                  "build it in float, calibrate on N seeded inputs and quantize it as pipecut "
                  "quantize does (slower; the default int8 build uses analytic scales)")
      ->check(CLI::Range(1, 1000));
  cmd->add_flag("--list", args->list, "list the models with their parameters and MACs");
  cmd->add_flag("--json", args->json, "with --list: print JSON");
  cmd->callback([args] {
    if (args->list) {
      if (args->input_size != 0 || args->float_model || args->calibrate > 0)
        throw Error("zoo: --list takes no --input-size, --float or --calibrate");
      // Parameters and multiply-accumulates come from the built graphs (a few seconds for all).
      struct Row {
        std::string name, summary;
        int64_t params = 0, macs = 0;
      };
      std::vector<Row> rows;
      ProgressBar bar(!args->json);
      const auto names = zoo_model_names();
      for (size_t i = 0; i < names.size(); ++i) {
        bar.update(static_cast<int64_t>(i), static_cast<int64_t>(names.size()),
                   "measuring " + names[i]);
        const Model model = Model::from_bytes(build_zoo_model(names[i]), names[i]);
        Row row{names[i], zoo_model_summary(names[i])};
        for (int64_t b : op_param_bytes(model)) row.params += b;
        for (int64_t m : op_macs(model)) row.macs += m;
        rows.push_back(std::move(row));
      }
      bar.finish();
      if (args->json) {
        nlohmann::ordered_json j = nlohmann::ordered_json::array();
        for (const Row& r : rows)
          j.push_back({{"name", r.name},
                       {"summary", r.summary},
                       {"param_bytes", r.params},
                       {"macs", r.macs}});
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
      }
      Table table({"name", "params (int8)", "MACs", "what it is"});
      for (const Row& r : rows)
        table.add({r.name, format_size(r.params), format_count(r.macs), r.summary});
      table.print(std::cout, "");
      return;
    }
    if (args->name.empty() || args->output.empty()) {
      throw Error("zoo: give a model name and -o FILE (or --list)");
    }
    if (args->calibrate > 0 && args->float_model)
      throw Error("zoo: --calibrate writes an int8 model; leave out --float");
    ZooOptions options;
    options.seed = args->seed;
    options.float_model = args->float_model || args->calibrate > 0;
    options.input_size = args->input_size;
    ProgressBar bar(true);
    auto bytes = with_progress(bar, "building " + args->name,
                               [&] { return build_zoo_model(args->name, options); });
    if (args->calibrate > 0) {  // section 1's path: seeded inputs 1..N, quantize's defaults
      const Model float_model = Model::from_bytes(bytes, args->name + " (float)");
      const auto specs = load_cpu(float_model)->inputs();
      const Ranges ranges = calibrate(
          float_model, args->calibrate,
          [&](int i) { return random_inputs(specs, static_cast<uint64_t>(1 + i)); },
          bar.callback());
      bytes = quantize_model(float_model, ranges);
      bar.finish();
    }
    write_model_file(args->output, bytes, /*force=*/true);
    std::cout << args->output << ": " << args->name << " ("
              << format_size(static_cast<int64_t>(bytes.size())) << ")\n";
  });
}

}  // namespace pipecut::cli
