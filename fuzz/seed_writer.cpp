// Writes a seed corpus for runtime_fuzzer: every op of the given models as a model of its own
// (write_submodel), kept when under 64 KiB, so mutations land in op structure more than in weights.
// Usage: fuzz_seed_writer OUTDIR MODEL.tflite ...
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "pipecut/files.h"
#include "pipecut/model.h"
#include "pipecut/model_writer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUTDIR MODEL.tflite ...\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  std::filesystem::create_directories(out);
  int written = 0;
  for (int a = 2; a < argc; ++a) {
    try {
      const pipecut::Model model = pipecut::Model::load(argv[a]);
      for (const pipecut::Op& op : model.ops()) {
        pipecut::SubmodelSpec spec;
        spec.ops = {op.index};
        for (int t : op.inputs) {
          if (t >= 0 && !model.tensor(t).is_constant()) spec.inputs.push_back(t);
        }
        spec.outputs = op.outputs;
        const std::vector<uint8_t> bytes = pipecut::write_submodel(model, spec);
        if (bytes.size() > 64 * 1024) continue;
        const auto name = std::filesystem::path(argv[a]).stem().string() + "_op" +
                          std::to_string(op.index) + ".tflite";
        pipecut::write_file_atomic(out / name, bytes);
        ++written;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", argv[a], e.what());
    }
  }
  std::printf("%d seeds in %s\n", written, out.c_str());
  return 0;
}
