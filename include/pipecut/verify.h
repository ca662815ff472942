#pragma once
// Bit-exact verification of a split tree: the source model, the cascade of full_split segments
// and every pairs_kN prefix + tail chain run on the same inputs; every final output and every
// boundary tensor must equal the same tensor inside the whole model, byte for byte.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pipecut/progress.h"
#include "pipecut/split_tree.h"

namespace pipecut {

struct VerifyOptions {
  int random_inputs = 2;  // seeded random inputs
  uint64_t seed = 1;
  std::vector<std::filesystem::path> images;  // RGB images, each one more input (inputs.h)
  int threads = 1;
  std::filesystem::path model;  // the source model; empty: the path meta.json records
  ProgressFn progress;
};

struct TensorMismatch {
  int input = 0;  // which input (0-based: random ones first, then images)
  std::string tensor;
  int64_t differing_bytes = 0;
  int max_abs_diff = 0;  // in quantized steps for 8-bit tensors, bytes otherwise
};

struct FileResult {
  std::string folder, file;  // "pairs_k3", "tflite/tail_seg3_to_7_int8.tflite"
  int tensors_checked = 0;
  std::vector<TensorMismatch> mismatches;
  bool ok() const { return mismatches.empty(); }
};

struct VerifyReport {
  std::string source;
  int inputs = 0;
  std::vector<FileResult> files;
  bool ok() const;
  // "input 0: full_split/tflite/seg3_int8.tflite: tensor 'x' differs in 17 bytes (max 1)"
  std::string first_mismatch() const;
};

// Throws pipecut::Error when the tree or the model cannot be read or run (a model whose hash
// differs from the one the tree was cut from is refused).
VerifyReport verify_split_tree(const SplitTree& tree, const VerifyOptions& options);
nlohmann::ordered_json verify_report_json(const VerifyReport& report);

}  // namespace pipecut
