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

// The same bytes, handed to `sink` (valid only during the call) instead of copied into a vector:
// for writing a file or hashing straight from the builder's memory, which the next call on the
// same thread reuses, so that writing many models does not fault in fresh pages for each.
using BytesSink = std::function<void(std::span<const uint8_t>)>;
void write_submodel_to(const Model& source, const SubmodelSpec& spec, const BytesSink& sink);

}  // namespace pipecut
