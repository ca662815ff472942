// pipecut import MODEL.onnx -o MODEL.tflite: an ONNX model (as PyTorch exports it) as a float32
// TFLite model for run, quantize, split and verify.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/model.h"
#include "pipecut/onnx_import.h"
#include "pipecut/sizes.h"

namespace pipecut::cli {

namespace {

struct ImportArgs {
  std::string model, output;
  int64_t batch = 1;
  std::vector<std::string> input_shapes;
  bool keep_nchw_io = false;
  bool force = false;
  bool json = false;
};

// "name:1,3,224,224"
std::pair<std::string, std::vector<int64_t>> parse_input_shape(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    throw Error("--input-shape '" + text + "': expected NAME:D1,D2,... (e.g. input:1,3,224,224)");
  }
  std::vector<int64_t> dims;
  std::stringstream list(text.substr(colon + 1));
  for (std::string d; std::getline(list, d, ',');) {
    try {
      size_t used = 0;
      const int64_t v = std::stoll(d, &used);
      if (used != d.size() || v <= 0) throw std::invalid_argument(d);
      dims.push_back(v);
    } catch (const std::exception&) {
      throw Error("--input-shape '" + text + "': '" + d + "' is not a positive dimension");
    }
  }
  return {text.substr(0, colon), dims};
}

}  // namespace

void add_import(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "import",
      "Convert an ONNX model (PyTorch's export, opsets 7-17) into a float32 TFLite model that "
      "computes in NHWC and keeps the ONNX tensor names");
  cmd->add_option("model", args->model, ".onnx file")->required();
  cmd->add_option("-o,--output", args->output, "the float32 .tflite file")->required();
  cmd->add_option("--batch", args->batch, "size of a dynamic batch dimension (default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--input-shape", args->input_shapes,
                  "NAME:D1,D2,...: the ONNX shape of an input with dynamic dimensions "
                  "(repeatable)");
  cmd->add_flag("--keep-nchw-io", args->keep_nchw_io,
                "keep ONNX's NCHW inputs and outputs (one TRANSPOSE at each edge); default: "
                "image inputs and outputs are NHWC");
  cmd->add_flag("--force", args->force, "replace an existing output file");
  cmd->add_flag("--json", args->json, "print the summary as JSON");
  cmd->callback([args] {
    if (std::filesystem::exists(args->output) && !args->force)
      throw Error(args->output + ": exists; pass --force to replace it");
    OnnxImportOptions options;
    options.batch = args->batch;
    options.keep_nchw_io = args->keep_nchw_io;
    for (const auto& s : args->input_shapes) options.input_shapes.insert(parse_input_shape(s));
    const OnnxImportResult r = import_onnx(args->model, options);
    const Model model = Model::from_bytes(r.tflite, args->output);  // must read back as valid
    int64_t params = 0;
    for (const Tensor& t : model.tensors()) params += static_cast<int64_t>(t.data.size());
    write_file_atomic(args->output, r.tflite);
    if (args->json) {
      nlohmann::ordered_json j = {
          {"model", args->model},           {"output", args->output},
          {"producer", r.producer},         {"opset", r.opset},
          {"onnx_nodes", r.onnx_nodes},     {"tflite_ops", r.tflite_ops},
          {"folded_nodes", r.folded_nodes}, {"fused_nodes", r.fused_nodes},
          {"transposes", r.transposes},     {"body_transposes", r.body_transposes},
          {"constant_bytes", params},       {"file_bytes", r.tflite.size()}};
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << "wrote " << args->output << " ("
              << format_size(static_cast<int64_t>(r.tflite.size()))
              << ", float32): " << r.onnx_nodes << " ONNX nodes (opset " << r.opset
              << (r.producer.empty() ? "" : ", " + r.producer) << ") -> " << r.tflite_ops
              << " TFLite ops; " << r.folded_nodes << " folded at import, " << r.fused_nodes
              << " fused; " << r.transposes << " TRANSPOSE (" << r.body_transposes
              << " between the first and last convolution)\n";
  });
}

}  // namespace pipecut::cli
