#pragma once
// Builds a float32 TFLite model tensor by tensor and op by op (flatbuffers object API).
// Internal to the onnx layer.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "format/tflite_schema.h"

namespace pipecut::onnx_import {

class TfliteEmitter {
 public:
  TfliteEmitter();

  // An activation (no data) or a constant (data given), named `name`.
  int activation(const std::string& name, const std::vector<int32_t>& shape,
                 tflite::TensorType type = tflite::TensorType_FLOAT32);
  int constant(const std::string& name, const std::vector<int32_t>& shape,
               std::span<const float> data);
  int constant_i32(const std::string& name, const std::vector<int32_t>& shape,
                   std::span<const int32_t> data);

  // Appends an op; `options` is a filled BuiltinOptions union (may be empty).
  void op(tflite::BuiltinOperator code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
          tflite::BuiltinOptionsUnion options = {}, int version = 1);

  const std::string& name(int tensor) const;
  void rename(int tensor, const std::string& name);
  const std::vector<int32_t>& shape(int tensor) const;
  bool has_name(const std::string& name) const;
  // A name not used yet: `base`, or base + "_1", "_2", ...
  std::string fresh_name(const std::string& base) const;
  int op_count() const;
  // The BuiltinOperator of every op so far, in order.
  std::vector<tflite::BuiltinOperator> op_codes() const;

  std::vector<uint8_t> finish(const std::vector<int32_t>& inputs,
                              const std::vector<int32_t>& outputs, const std::string& description);

 private:
  int tensor(const std::string& name, const std::vector<int32_t>& shape, tflite::TensorType type,
             std::vector<uint8_t> data);
  std::unique_ptr<tflite::ModelT> model_;
  // Names in use, and the next suffix to try per base name: fresh_name stays cheap on graphs of
  // many thousands of tensors.
  std::unordered_set<std::string> names_;
  mutable std::unordered_map<std::string, int> next_suffix_;
  tflite::SubGraphT* graph_;
};

}  // namespace pipecut::onnx_import
