// pipecut qreport FLOAT INT8: how far the 8-bit model is from the float one, per layer and whole.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/picture_files.h"
#include "cli/table.h"
#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/inputs.h"
#include "pipecut/onnx_import.h"
#include "pipecut/progress.h"
#include "pipecut/quant_report.h"
#include "pipecut/split_tree.h"

namespace pipecut::cli {

namespace {

struct QreportArgs {
  std::string float_model, quant_model;
  std::vector<std::string> inputs;
  int random = 0;
  float mean = 127.5f, std = 127.5f;
  bool json = false;
  std::string svg;
  std::vector<std::string> schemes{"int8"};
  std::string split;  // a split tree of the quantized model
};

// The full_split segments of `dir`, checked to be cut from `quantized`, and their boundary
// tensors (every segment output that is not a model output).
std::vector<QuantSegment> split_segments(const std::string& dir, const Model& quantized,
                                         const std::string& quant_file,
                                         std::vector<std::string>& boundaries) {
  const SplitTree tree = read_split_tree(dir);
  if (content_hash_like(quantized.bytes(), tree.source_hash) != tree.source_hash)
    throw Error(dir + ": was split from another model than " + quant_file);
  std::vector<QuantSegment> segments;
  for (const TreeFile& f : tree.full_split().files) {
    if (f.first_op < 0 || f.last_op < f.first_op)
      throw Error(dir + ": " + f.path.filename().string() + " does not record its ops");
    QuantSegment segment;
    segment.name = f.path.filename().string();
    segment.first_op = f.first_op;
    segment.last_op = f.last_op;
    segments.push_back(segment);
    for (const std::string& t : f.outputs) {
      const bool model_output = std::any_of(quantized.outputs().begin(), quantized.outputs().end(),
                                            [&](int o) { return quantized.tensor(o).name == t; });
      if (!model_output && std::find(boundaries.begin(), boundaries.end(), t) == boundaries.end())
        boundaries.push_back(t);
    }
  }
  return segments;
}

// A JSON number, or null for NaN and the infinities JSON cannot hold.
nlohmann::ordered_json number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
}

// SQNR in JSON: a number, "inf" (equal), "-inf" (a zero reference), or null (not measured).
nlohmann::ordered_json sqnr_json(double v) {
  if (std::isnan(v)) return nlohmann::ordered_json();
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

std::string db(double v) {
  if (std::isnan(v)) return "-";
  if (std::isinf(v)) return v > 0 ? "exact" : "-inf";
  return fixed(v, 1);
}

std::string maybe(double v, int digits) {
  return std::isnan(v) ? "-" : fixed(v, digits);
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
  cmd->add_option("--scheme", args->schemes,
                  "weight formats to score, comma-separated: int8 (the quantized model's), pot "
                  "(power-of-two scales), fp8 (E4M3)")
      ->delimiter(',')
      ->check(CLI::IsMember({"int8", "pot", "fp8"}))
      ->capture_default_str();
  cmd->add_option("--split", args->split,
                  "a split tree of the quantized model: figures per segment and per boundary "
                  "tensor too");
  cmd->callback([args] {
    const Model float_model = load_model_file(args->float_model);
    const Model quantized = load_model_file(args->quant_model);
    std::vector<TensorSpec> specs;  // from the model itself: no executable needed yet
    for (int t : float_model.inputs()) {
      const Tensor& tensor = float_model.tensor(t);
      specs.push_back({tensor.name, tensor.type, tensor.shape, tensor.quant});
    }
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
    QuantReportOptions options;
    const auto asked = [&](const char* s) {
      return std::find(args->schemes.begin(), args->schemes.end(), s) != args->schemes.end();
    };
    options.pot = asked("pot");
    options.fp8 = asked("fp8");
    std::vector<QuantSegment> segments;
    if (!args->split.empty())
      segments = split_segments(args->split, quantized, args->quant_model, options.tensors);
    const QuantReport r = quant_report(float_model, quantized, inputs, bar.callback(), options);
    segments = quant_segments(r, std::move(segments));
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
                          {"divergence", number(l.divergence)},
                          {"weight_divergence", number(l.weight_divergence)},
                          {"pot_divergence", number(l.pot_divergence)},
                          {"fp8_divergence", number(l.fp8_divergence)},
                          {"sqnr_db", sqnr_json(l.sqnr_db)}});
      nlohmann::ordered_json j{{"float", args->float_model},
                               {"quantized", args->quant_model},
                               {"matched_by", r.matched_by},
                               {"unscored_layers", r.unscored_layers},
                               {"inputs", r.inputs},
                               {"output_cosine_mean", r.output_cosine_mean},
                               {"output_cosine_min", r.output_cosine_min},
                               {"output_sqnr_db", sqnr_json(r.output_sqnr_db)},
                               {"top1_agree", r.top1_agree},
                               {"divergence_sum", r.divergence_sum},
                               {"divergence_log10_macs", r.divergence_log10_macs},
                               {"divergence_cbrt_macs", r.divergence_cbrt_macs},
                               {"weight_divergence_sum", r.weight_divergence_sum},
                               {"pot_divergence_sum", number(r.pot_divergence_sum)},
                               {"fp8_divergence_sum", number(r.fp8_divergence_sum)},
                               {"layers", layers}};
      if (!args->split.empty()) {
        nlohmann::ordered_json segs = nlohmann::ordered_json::array(),
                               bounds = nlohmann::ordered_json::array();
        for (const auto& s : segments)
          segs.push_back({{"file", s.name},
                          {"first_op", s.first_op},
                          {"last_op", s.last_op},
                          {"layers", s.layers},
                          {"divergence_sum", s.divergence_sum},
                          {"worst_sqnr_db", sqnr_json(s.worst_sqnr_db)},
                          {"worst_layer", s.worst_layer}});
        for (const auto& t : r.tensors)
          bounds.push_back({{"tensor", t.name},
                            {"sqnr_db", sqnr_json(t.sqnr_db)},
                            {"cosine_min", number(t.cosine_min)}});
        j["split"] = args->split;
        j["segments"] = segs;
        j["boundaries"] = bounds;
      }
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return;
    }
    std::vector<std::string> header{"layer", "op", "MACs", "divergence"};
    const bool schemes = options.pot || options.fp8;
    if (schemes) header.push_back("int8 weights");
    if (options.pot) header.push_back("pot");
    if (options.fp8) header.push_back("fp8");
    header.push_back("SQNR dB");
    Table table(header, std::vector<bool>(header.size(), true));
    for (const auto& l : r.layers) {
      std::vector<std::string> row{l.name, l.op_type, std::to_string(l.macs),
                                   maybe(l.divergence, 5)};
      if (schemes) row.push_back(maybe(l.weight_divergence, 5));
      if (options.pot) row.push_back(maybe(l.pot_divergence, 5));
      if (options.fp8) row.push_back(maybe(l.fp8_divergence, 5));
      row.push_back(db(l.sqnr_db));
      table.add(row);
    }
    table.print(std::cout);
    std::printf(
        "\n%d inputs: output cosine mean %.5f (worst %.5f), output SQNR %s dB, top-1 agrees "
        "on %d of %d\n",
        r.inputs, r.output_cosine_mean, r.output_cosine_min, db(r.output_sqnr_db).c_str(),
        r.top1_agree, r.inputs);
    std::printf(
        "divergence: sum %.5f, x log10(MACs) %.4f, x cbrt(MACs) %.3f (layers matched by %s)\n",
        r.divergence_sum, r.divergence_log10_macs, r.divergence_cbrt_macs, r.matched_by.c_str());
    if (schemes)
      std::printf("weights alone, summed: int8 %s, power-of-two %s, FP8 E4M3 %s\n",
                  fixed(r.weight_divergence_sum, 5).c_str(),
                  options.pot ? fixed(r.pot_divergence_sum, 5).c_str() : "-",
                  options.fp8 ? fixed(r.fp8_divergence_sum, 5).c_str() : "-");
    if (!args->split.empty()) {
      std::printf("\nper segment of %s:\n", args->split.c_str());
      Table seg_table({"file", "ops", "layers", "divergence", "worst SQNR dB", "worst layer"},
                      {false, true, true, true, true, false});
      for (const auto& s : segments)
        seg_table.add({s.name, std::to_string(s.first_op) + ".." + std::to_string(s.last_op),
                       std::to_string(s.layers), fixed(s.divergence_sum, 5), db(s.worst_sqnr_db),
                       short_tensor_name(s.worst_layer)});
      seg_table.print(std::cout);
      std::printf("\nper boundary tensor (float against 8-bit, over the inputs):\n");
      Table bound_table({"tensor", "SQNR dB", "worst cosine"}, {false, true, true});
      for (const auto& t : r.tensors)
        bound_table.add({short_tensor_name(t.name), db(t.sqnr_db), maybe(t.cosine_min, 5)});
      bound_table.print(std::cout);
    }
  });
}

}  // namespace pipecut::cli
