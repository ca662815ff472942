// pipecut quantize FLOAT.tflite -o INT8.tflite: native post-training full-integer quantization.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/picture_files.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/inputs.h"
#include "pipecut/onnx_import.h"
#include "pipecut/quant.h"
#include "pipecut/sizes.h"

namespace pipecut::cli {

namespace {

struct QuantizeArgs {
  std::string model, output;
  std::vector<std::string> calib;
  std::string range = "mse";
  double percentile = 99.99;
  bool equalize = false, bias_correction = true;
  int random = 0;
  float mean = 127.5f, std = 127.5f;
  bool per_tensor = false;
  std::string io_type = "int8";
  bool force = false;
};

}  // namespace

void add_quantize(CLI::App& app) {
  auto args = std::make_shared<QuantizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "quantize",
      "Quantize a float32 model to full-integer int8 natively, calibrated on pictures or random "
      "inputs (names and cuts stay the same)");
  cmd->add_option("model", args->model,
                  "float32 .tflite file, or .onnx (imported on the fly, see import)")
      ->required();
  cmd->add_option("-o,--output", args->output, "the int8 .tflite file")->required();
  cmd->add_option("--calib", args->calib, "pictures (JPEG, PNG, BMP) or folders of them");
  cmd->add_option("--random", args->random, "calibrate on N seeded random inputs instead")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--mean", args->mean, "pictures: (pixel - mean) / std")->capture_default_str();
  cmd->add_option("--std", args->std, "pictures: (pixel - mean) / std")->capture_default_str();
  cmd->add_option("--range", args->range,
                  "activation ranges from calibration: minmax (nothing clipped), percentile "
                  "(--percentile P of the values), or mse (least int8 error)")
      ->capture_default_str()
      ->check(CLI::IsMember({"minmax", "percentile", "mse"}));
  cmd->add_option("--percentile", args->percentile, "with --range percentile")
      ->capture_default_str()
      ->check(CLI::Range(50.000001, 100.0));
  cmd->add_flag("--equalize", args->equalize,
                "cross-layer equalization first: consecutive convolutions get equal weight ranges "
                "per channel (helps --per-tensor)");
  cmd->add_flag("--bias-correction,!--no-bias-correction", args->bias_correction,
                "biases absorb the mean shift the weights' rounding causes (the default; "
                "--no-bias-correction leaves them as they are)");
  cmd->add_flag("--per-tensor", args->per_tensor, "one scale per weight tensor, not per channel");
  cmd->add_option("--io-type", args->io_type,
                  "the model's inputs and outputs: int8, or uint8 / float32 with a QUANTIZE in and "
                  "a QUANTIZE / DEQUANTIZE out")
      ->capture_default_str()
      ->check(CLI::IsMember({"int8", "uint8", "float32"}));
  cmd->add_flag("--force", args->force, "replace an existing output file");
  cmd->callback([args] {
    if (std::filesystem::exists(args->output) && !args->force)
      throw Error(args->output + ": exists; pass --force to replace it");
    if (args->calib.empty() == (args->random == 0))
      throw Error("quantize: give calibration pictures (--calib) or --random N, one of them");
    const Model loaded = load_model_file(args->model);
    int pairs = 0;
    const Model model = args->equalize
                            ? Model::from_bytes(equalize_model(loaded, &pairs), loaded.origin())
                            : loaded;
    const auto specs = load_cpu(model)->inputs();
    // Inputs are made one at a time as calibration needs them.
    std::vector<std::filesystem::path> files;
    if (args->random == 0) {
      if (specs.size() != 1) throw Error(args->model + ": --calib needs a model with one input");
      files = pictures(args->calib);
    }
    const int count = args->random > 0 ? args->random : static_cast<int>(files.size());
    const auto input_at = [&](int i) -> std::vector<TensorValue> {
      if (args->random > 0) return random_inputs(specs, static_cast<uint64_t>(1 + i));
      return {
          image_input_normalised(specs[0], files[static_cast<size_t>(i)], args->mean, args->std)};
    };
    ProgressBar bar(true);
    CalibrateOptions calibrate_options;
    calibrate_options.method = args->range == "percentile" ? RangeMethod::kPercentile
                               : args->range == "mse"      ? RangeMethod::kMse
                                                           : RangeMethod::kMinMax;
    calibrate_options.percentile = args->percentile;
    const Ranges ranges = calibrate(model, count, input_at, bar.callback(), calibrate_options);
    bar.finish();
    QuantizeOptions options;
    options.per_tensor = args->per_tensor;
    options.bias_correction = args->bias_correction;
    options.io_type = args->io_type == "float32" ? IoType::kFloat32
                      : args->io_type == "uint8" ? IoType::kUInt8
                                                 : IoType::kInt8;
    const std::vector<uint8_t> bytes = quantize_model(model, ranges, options);
    load_cpu(Model::from_bytes(bytes, args->output));  // it must read back and run
    write_file_atomic(args->output, bytes);
    std::cout << "wrote " << args->output << " (" << format_size(static_cast<int64_t>(bytes.size()))
              << ", int8, calibrated on " << ranges.inputs << " inputs)\n";
  });
}

}  // namespace pipecut::cli
