#pragma once
// The ONNX-to-TFLite conversion, node by node. Internal to the onnx layer; see onnx_import.h for
// the rules it follows (layout, names, folding).
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "onnx/tflite_emitter.h"
#include "pipecut/onnx_import.h"

namespace pipecut::onnx_import {

using Shape = std::vector<int64_t>;
using Perm = std::vector<int>;  // physical axis k holds logical axis perm[k]

// One ONNX value: a constant known at import, or an activation with a TFLite tensor.
struct Value {
  Shape shape;  // logical, in ONNX's order
  bool is_const = false;
  bool is_float = true;    // constants: which of the two vectors holds the data
  std::vector<float> f;    // float constants
  std::vector<int64_t> i;  // integer and boolean constants
  int tensor = -1;         // activations: the TFLite tensor
  Perm perm;               // activations: the order its bytes are in (empty: ONNX's own)
};

Perm identity_perm(size_t rank);
// `p`, or the identity of `rank` for an empty order (data in ONNX's own order).
Perm order_or_identity(const Perm& p, size_t rank);
// A constant's values as float32 (integer constants converted).
std::vector<float> float_values(const Value& v);
// The order an op over `operands` (all of rank `rank` or broadcast to it) computes in: that of
// the first full-rank activation stored in another order (NHWC data stays NHWC), else ONNX's own.
Perm operand_order(const std::vector<const Value*>& operands, size_t rank);
Perm nhwc_perm();  // {0, 2, 3, 1}: NCHW data stored as NHWC
Shape physical_shape(const Shape& logical, const Perm& perm);
// The most elements one tensor may have (1 GiB of float32): TFLite files stop at 2 GiB, and a
// hostile shape must not make the import allocate terabytes.
constexpr int64_t kMaxElements = int64_t{1} << 28;
// Elements of `shape`: -1 if a dimension is negative, kMaxElements + 1 when there are more.
int64_t element_count(const Shape& shape);
// Data stored in order `a` and in order `b` are the same bytes: their axes larger than 1 come in
// the same order ([N, C, 1, 1] as NCHW and as NHWC, say).
bool same_bytes(const Shape& logical, const Perm& a, const Perm& b);
// data in `perm` order from data in logical order.
std::vector<float> permute(const std::vector<float>& data, const Shape& logical, const Perm& perm);

class Importer {
 public:
  Importer(const std::filesystem::path& path, const onnx::ModelProto& model, int opset,
           const OnnxImportOptions& options);
  OnnxImportResult run();

  // ---- for the converters -----------------------------------------------------------------
  [[noreturn]] void fail(const std::string& what) const;  // names the file and current node
  const onnx::NodeProto& node() const { return *node_; }
  bool has_input(int i) const;
  const std::string& input_name(int i) const;
  const std::string& output_name(int i) const;
  const Value& in(int i) const;
  bool is_const(int i) const { return in(i).is_const; }
  const Value* find_value(const std::string& name) const;  // nullptr when not made yet
  // Attribute readers with defaults.
  int64_t attr_int(const std::string& name, int64_t fallback) const;
  float attr_float(const std::string& name, float fallback) const;
  std::string attr_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& name) const;
  bool has_attr(const std::string& name) const;
  // Integer values of constant input i (shapes, axes, pads...), or fails naming it.
  std::vector<int64_t> const_ints(int i) const;
  std::vector<float> const_floats(int i) const;

  // Input i's TFLite tensor with its bytes in `perm` order: the tensor itself, or a TRANSPOSE
  // of it (made once per order). Constants are emitted as TFLite constants in that order.
  int tensor_in(int i, const Perm& perm);
  int tensor_of(const std::string& name, const Perm& perm);
  // An activation for output `i` of the current node (or the node the activation fused into it
  // names), with a TFLite tensor of the physical shape.
  int new_output(int i, const Shape& logical, const Perm& perm);
  // Output i is a constant computed here.
  void set_const_output(int i, Value v);
  // Output i is the same data as an existing activation (Identity, Transpose relabelling).
  void set_alias_output(int i, const Value& v);

  // The single node that reads output `i` of the current node, when it is the only reader (and
  // the value is not a graph output); it may then be fused.
  const onnx::NodeProto* sole_consumer(int output) const;
  // Marks `consumer` as done: its output is output `i` of the current node from now on.
  void fuse(const onnx::NodeProto& consumer, int output = 0);
  // The activation a sole Relu/Clip consumer of output `i` gives (fused into the op).
  tflite::ActivationFunctionType take_activation(int output = 0);

  TfliteEmitter& emit() { return emit_; }
  int opset() const { return opset_; }
  std::string fresh(const std::string& base) const { return emit_.fresh_name(base); }
  // A name for a tensor the current node needs besides its outputs (a PAD before it, say):
  // "<node name>_<what>" for PyTorch's scoped node names ("/conv1/Conv_pad", so inspect gives
  // it module conv1), else "<output name>/<what>"; unused so far.
  std::string aux(const std::string& what) const;
  int const_tensor(const std::string& name, const Shape& physical, const std::vector<float>& d);
  int const_i32(const std::string& name, const std::vector<int32_t>& data);
  void count_folded() { ++result_.folded_nodes; }
  // Fails (naming `what`) unless every dimension is >= 0 and there are at most kMaxElements.
  void check_size(const Shape& shape, const std::string& what) const;
  const std::string& file() const { return file_; }

 private:
  void convert_node();
  void read_initializers();
  void read_inputs();
  std::vector<int32_t> finish_outputs();
  Value& value(const std::string& name);

  std::filesystem::path path_;
  std::string file_;  // path_ as text, for errors
  int node_index_ = -1;
  const onnx::ModelProto& model_;
  int opset_;
  OnnxImportOptions options_;
  TfliteEmitter emit_;
  OnnxImportResult result_;
  std::map<std::string, Value> values_;
  std::map<std::pair<std::string, Perm>, int> transposed_;  // name, order -> tensor
  std::map<std::string, std::vector<const onnx::NodeProto*>> readers_;
  std::set<std::string> graph_outputs_;
  std::set<const onnx::NodeProto*> fused_;
  std::map<const onnx::NodeProto*, std::map<int, std::string>> renamed_outputs_;
  const onnx::NodeProto* node_ = nullptr;
  std::vector<int32_t> tflite_inputs_;
};

// A TensorProto (initializer or Constant attribute) as a constant; `file` names it in errors.
Value tensor_value(const onnx::TensorProto& t, const std::string& file);

// The converters, one family per file; each handles the current node of the importer.
using Converter = void (*)(Importer&);
Converter find_converter(const std::string& op_type);

void convert_conv(Importer& im);
void convert_conv_transpose(Importer& im);
void convert_batch_norm(Importer& im);
void convert_gemm(Importer& im);
void convert_matmul(Importer& im);
void convert_max_pool(Importer& im);
void convert_average_pool(Importer& im);
void convert_global_pool(Importer& im);
void convert_resize(Importer& im);
void convert_pad(Importer& im);
void convert_binary(Importer& im);
void convert_unary(Importer& im);
void convert_clip(Importer& im);
void convert_hard_sigmoid(Importer& im);
void convert_prelu(Importer& im);
void convert_softmax(Importer& im);
void convert_reduce_mean(Importer& im);
void convert_reshape(Importer& im);
void convert_transpose(Importer& im);
void convert_concat(Importer& im);
void convert_split(Importer& im);
void convert_slice(Importer& im);
void convert_identity(Importer& im);
void convert_constant(Importer& im);
void convert_shape(Importer& im);
void convert_gather(Importer& im);
void convert_cast(Importer& im);
void convert_constant_of_shape(Importer& im);

}  // namespace pipecut::onnx_import
