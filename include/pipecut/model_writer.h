#pragma once
// Builds a new .tflite from a part of an existing model: the chosen ops with every field they carry
// (options, custom options, versions), the tensors they touch with names and quantization intact,
// each constant buffer once, and the model metadata that still applies.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "pipecut/model.h"

namespace pipecut {

struct SubmodelSpec {
  std::vector<int> ops;      // source op indices, in execution order
  std::vector<int> inputs;   // source tensor indices that become the subgraph inputs
  std::vector<int> outputs;  // source tensor indices that become the subgraph outputs
  std::string description;   // empty: keep the source description
};

std::vector<uint8_t> write_submodel(const Model& source, const SubmodelSpec& spec);

// A file as pieces in file order; their concatenation is the file.
using FilePieces = std::span<const std::span<const uint8_t>>;
using PiecesSink = std::function<void(FilePieces)>;

// The same bytes, handed to `sink` (valid only during the call) instead of copied into a vector:
// the builder's memory (which the next call on the same thread reuses, so writing many models
// does not fault in fresh pages for each) with the large constant buffers left where they are in
// the source's memory, for a writer to gather (write_file_atomic with pieces) and a hash to read.
void write_submodel_to(const Model& source, const SubmodelSpec& spec, const PiecesSink& sink);

}  // namespace pipecut
