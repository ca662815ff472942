#pragma once
// Small tensors and options for the pipeline tests, whose stages are fakes that move a few bytes.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pipecut/pipeline.h"

namespace pipecut::testing {

inline TensorSpec tensor_spec(const std::string& name, std::vector<int32_t> shape,
                              DType type = DType::kInt8) {
  TensorSpec s;
  s.name = name;
  s.type = type;
  s.shape = std::move(shape);
  return s;
}

// An int8 row [1, bytes].
inline TensorValue tensor_value(const std::string& name, std::vector<uint8_t> data) {
  TensorValue v;
  v.name = name;
  v.type = DType::kInt8;
  v.shape = {1, static_cast<int32_t>(data.size())};
  v.data = std::move(data);
  return v;
}

// Options with one field set (g++ 12 rejects partial designated initializers under -Wextra).
inline Pipeline::Options with_capacity(size_t queue_capacity) {
  Pipeline::Options o;
  o.queue_capacity = queue_capacity;
  return o;
}

inline std::vector<std::string> names(const std::vector<TensorSpec>& specs) {
  std::vector<std::string> r;
  for (const TensorSpec& s : specs) r.push_back(s.name);
  return r;
}

}  // namespace pipecut::testing
