#pragma once
// A verified, read-only TFLite model and a light view of its single subgraph: the tensors and ops
// every layer above works with, without touching flatbuffers.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tflite {
struct Model;
}

namespace pipecut {

// TFLite TensorType values (the numbers are the file format's).
enum class DType : int8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kString = 5,
  kBool = 6,
  kInt16 = 7,
  kComplex64 = 8,
  kInt8 = 9,
  kFloat64 = 10,
  kComplex128 = 11,
  kUInt64 = 12,
  kResource = 13,
  kVariant = 14,
  kUInt32 = 15,
  kUInt16 = 16,
  kInt4 = 17,
  kBFloat16 = 18,
  kInt2 = 19,
  kUInt4 = 20,
  kFloat8E4M3FN = 21,
  kFloat8E5M2 = 22,
};
const char* dtype_name(DType t);
// Storage bits per element (4 for INT4, 2 for INT2, 0 for types without a fixed size such as
// STRING).
int dtype_bits(DType t);
bool is_8bit(DType t);
// A shape as error messages write it, "[1,224,224,3]"; tables use 'x': "[1x224x224x3]".
std::string shape_text(const std::vector<int32_t>& shape, char separator = ',');

struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t axis = 0;  // quantized_dimension, meaningful when per-channel
  bool present() const { return !scale.empty(); }
  bool per_channel() const { return scale.size() > 1; }
  bool operator==(const Quantization&) const = default;
};

struct Tensor {
  int index = -1;
  std::string name;
  DType type = DType::kFloat32;
  std::vector<int32_t> shape;
  std::vector<int32_t> shape_signature;  // -1 marks a dynamic dimension; empty when static
  Quantization quant;
  uint32_t buffer = 0;
  std::span<const uint8_t> data;  // constant contents; empty for activations
  bool is_variable = false;

  bool is_constant() const { return !data.empty(); }
  bool has_static_shape() const;
  int64_t num_elements() const;
  int64_t byte_size() const;  // from shape and type
};

struct Op {
  int index = -1;
  int opcode_index = 0;
  int32_t builtin_code = 0;  // tflite::BuiltinOperator value
  std::string custom_code;   // for CUSTOM ops
  int version = 1;
  std::vector<int> inputs;  // tensor indices, -1 for an omitted optional input
  std::vector<int> outputs;
  std::vector<int> intermediates;
};

class Model {
 public:
  // Maps and verifies a .tflite file (see MappedFile in files.h). Throws pipecut::Error naming
  // the file and the problem.
  static Model load(const std::filesystem::path& path);
  // Same checks on bytes already in memory; `origin` names them in error messages.
  static Model from_bytes(std::vector<uint8_t> bytes, std::string origin);

  const std::string& origin() const { return origin_; }
  std::span<const uint8_t> bytes() const { return bytes_; }
  // The verified flatbuffer root, for the format layer and kernels that read builtin options.
  const tflite::Model* flatbuffer() const { return root_; }

  const std::vector<Tensor>& tensors() const { return tensors_; }
  const std::vector<Op>& ops() const { return ops_; }
  const std::vector<int>& inputs() const { return inputs_; }
  const std::vector<int>& outputs() const { return outputs_; }
  const std::string& description() const { return description_; }
  uint32_t schema_version() const { return version_; }

  // "CONV_2D", or the custom code of a CUSTOM op.
  std::string op_type(const Op& op) const;
  const Tensor& tensor(int index) const { return tensors_.at(static_cast<size_t>(index)); }

 private:
  std::string origin_;
  std::shared_ptr<const void> owner_;  // keeps bytes_ alive: a vector or a mapped file
  std::span<const uint8_t> bytes_;
  const tflite::Model* root_ = nullptr;
  std::vector<Tensor> tensors_;
  std::vector<Op> ops_;
  std::vector<int> inputs_, outputs_;
  std::string description_;
  uint32_t version_ = 0;

  friend class ModelReader;
};

// Name of a BuiltinOperator value ("CONV_2D"); "UNKNOWN_<n>" outside the schema.
std::string builtin_op_name(int32_t code);

}  // namespace pipecut
