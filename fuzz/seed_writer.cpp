// Writes a seed corpus for the fuzzers: every op of the given models as a model of its own, and
// every run of kWindow consecutive ops, kept when under 64 KiB, so mutations land in op structure
// more than in weights.
// Usage: fuzz_seed_writer OUTDIR MODEL.tflite ...
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "pipecut/files.h"
#include "pipecut/graph.h"
#include "pipecut/model.h"
#include "pipecut/slicer.h"

namespace {
constexpr int kWindow = 4;
}  // namespace

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
      const pipecut::Graph graph(model);
      const int ops = static_cast<int>(model.ops().size());
      const std::string stem = std::filesystem::path(argv[a]).stem().string();
      // Each op alone, and each run of kWindow ops (material for the split fuzzer's cuts).
      for (const int length : {1, kWindow}) {
        for (int first = 0; first + length <= ops; ++first) {
          const pipecut::SegmentPlan plan =
              pipecut::plan_op_range(model, graph, first, first + length - 1);
          const std::vector<uint8_t> bytes = pipecut::write_segment(model, plan);
          if (bytes.size() > 64 * 1024) continue;
          const std::string name = stem + "_ops" + std::to_string(first) + "-" +
                                   std::to_string(first + length - 1) + ".tflite";
          pipecut::write_file_atomic(out / name, bytes);
          ++written;
        }
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", argv[a], e.what());
    }
  }
  std::printf("%d seeds in %s\n", written, out.c_str());
  return 0;
}
