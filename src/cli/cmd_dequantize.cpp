// pipecut dequantize INT8.tflite -o FLOAT.tflite: the 8-bit model as float32, for reference runs.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/quant.h"
#include "pipecut/sizes.h"

namespace pipecut::cli {

namespace {
struct DequantizeArgs {
  std::string model, output;
  bool force = false;
};
}  // namespace

void add_dequantize(CLI::App& app) {
  auto args = std::make_shared<DequantizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "dequantize",
      "Write a float32 model that computes with an 8-bit model's dequantized weights (for "
      "reference runs; names and cuts stay the same)");
  cmd->add_option("model", args->model, "8-bit .tflite file")->required();
  cmd->add_option("-o,--output", args->output, "the float32 .tflite file")->required();
  cmd->add_flag("--force", args->force, "replace an existing output file");
  cmd->callback([args] {
    if (std::filesystem::exists(args->output) && !args->force)
      throw Error(args->output + ": exists; pass --force to replace it");
    const Model model = Model::load(args->model);
    const std::vector<uint8_t> bytes = dequantize_model(model);
    Model::from_bytes(bytes, args->output);  // what we write must read back as a valid model
    write_file_atomic(args->output, bytes);
    std::cout << "wrote " << args->output << " (" << format_size(static_cast<int64_t>(bytes.size()))
              << ", float32)\n";
  });
}

}  // namespace pipecut::cli
