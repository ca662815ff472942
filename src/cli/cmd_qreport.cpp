// pipecut qreport FLOAT INT8: how far the 8-bit model is from the float one, per layer and whole.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/picture_files.h"
#include "cli/table.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/inputs.h"
#include "pipecut/onnx_import.h"
#include "pipecut/progress.h"
#include "pipecut/quant_report.h"

namespace pipecut::cli {

namespace {

struct QreportArgs {
  std::string float_model, quant_model;
  std::vector<std::string> inputs;
  int random = 0;
  float mean = 127.5f, std = 127.5f;
  bool json = false;
  std::string svg;
};

// A JSON number, or null for NaN and the infinities JSON cannot hold.
nlohmann::ordered_json number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

std::string db(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return "exact";
  return fixed(v, 1);
}

}  // namespace

void add_qreport(CLI::App& app) {
  auto args = std::make_shared<QreportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "qreport", "Compare an 8-bit model with its float original: per layer and whole model");
  cmd->add_option("float", args->float_model, "the float32 model (.tflite or .onnx)")->required();
  cmd->add_option("quantized", args->quant_model, "its 8-bit quantization (.tflite)")->required();
  cmd->add_option("--inputs", args->inputs, "pictures or folders of pictures (JPEG, PNG, BMP)");
  cmd->add_option("--random", args->random,
                  "seeded random inputs instead (default 8 without --inputs)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--mean", args->mean, "pictures: (pixel - mean) / std")->capture_default_str();
  cmd->add_option("--std", args->std, "pictures: (pixel - mean) / std")->capture_default_str();
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->add_option("--svg", args->svg, "write the per-layer divergence and SQNR as an SVG");
  cmd->callback([args] {
    const Model float_model = load_model_file(args->float_model);
    const Model quantized = load_model_file(args->quant_model);
    const auto specs = load_cpu(float_model)->inputs();
    std::vector<std::vector<TensorValue>> inputs;
    if (!args->inputs.empty()) {
      if (specs.size() != 1)
        throw Error(args->float_model + ": --inputs needs a model with one input");
      for (const auto& file : pictures(args->inputs))
        inputs.push_back({image_input_normalised(specs[0], file, args->mean, args->std)});
    } else {
      for (int i = 0; i < (args->random > 0 ? args->random : 8); ++i)
        inputs.push_back(random_inputs(specs, 1000 + static_cast<uint64_t>(i)));
    }
    ProgressBar bar(!args->json);
    const QuantReport r = quant_report(float_model, quantized, inputs, bar.callback());
    bar.finish();
    if (!args->svg.empty())
      write_file_atomic(args->svg,
                        quant_report_svg(r, args->quant_model + " against " + args->float_model));
    if (args->json) {
      nlohmann::ordered_json layers = nlohmann::ordered_json::array();
      for (const auto& l : r.layers)
        layers.push_back({{"name", l.name},
                          {"op", l.op_type},
                          {"float_op", l.float_op},
                          {"quantized_op", l.quant_op},
                          {"macs", l.macs},
                          {"divergence", l.divergence},
                          {"sqnr_db", number(l.sqnr_db)}});
      nlohmann::ordered_json j{{"float", args->float_model},
                               {"quantized", args->quant_model},
                               {"matched_by", r.matched_by_name ? "name" : "order"},
                               {"inputs", r.inputs},
                               {"output_cosine_mean", r.output_cosine_mean},
                               {"output_cosine_min", r.output_cosine_min},
                               {"output_sqnr_db", number(r.output_sqnr_db)},
                               {"top1_agree", r.top1_agree},
                               {"divergence_sum", r.divergence_sum},
                               {"divergence_log10_macs", r.divergence_log10_macs},
                               {"divergence_cbrt_macs", r.divergence_cbrt_macs},
                               {"layers", layers}};
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return;
    }
    Table table({"layer", "op", "MACs", "divergence", "SQNR dB"}, {false, false, true, true, true});
    for (const auto& l : r.layers)
      table.add({l.name, l.op_type, std::to_string(l.macs), fixed(l.divergence, 5), db(l.sqnr_db)});
    table.print(std::cout);
    std::printf(
        "\n%d inputs: output cosine mean %.5f (worst %.5f), output SQNR %s dB, top-1 agrees "
        "on %d of %d\n",
        r.inputs, r.output_cosine_mean, r.output_cosine_min, db(r.output_sqnr_db).c_str(),
        r.top1_agree, r.inputs);
    std::printf(
        "divergence: sum %.5f, x log10(MACs) %.4f, x cbrt(MACs) %.3f (layers matched by %s)\n",
        r.divergence_sum, r.divergence_log10_macs, r.divergence_cbrt_macs,
        r.matched_by_name ? "name" : "order");
  });
}

}  // namespace pipecut::cli
