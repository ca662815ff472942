#pragma once
// An independent reference for the CPU runtime: runs a .tflite file through Arm NN's TfLite parser
// on its CpuRef backend (Debian's libarmnntfliteparser-dev). Only the tests that agree with Arm NN
// use it; the build leaves them out when Arm NN is not installed.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace pipecut::testing {

// Runs the model's first subgraph once. `inputs` hold the raw bytes of each model input, in the
// model's input order, exactly as TFLite lays them out. Returns the raw bytes of each output, in
// the model's output order. Throws std::runtime_error naming the file and what failed (parsing,
// an unsupported layer, a wrong input count or byte size, or a failed run).
std::vector<std::vector<uint8_t>> run_armnn_reference(
    const std::filesystem::path& tflite, const std::vector<std::vector<uint8_t>>& inputs);

}  // namespace pipecut::testing
