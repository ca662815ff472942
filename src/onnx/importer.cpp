#include "onnx/importer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>

#include "pipecut/error.h"

namespace pipecut::onnx_import {

Perm identity_perm(size_t rank) {
  Perm p(rank);
  std::iota(p.begin(), p.end(), 0);
  return p;
}

Perm nhwc_perm() {
  return {0, 2, 3, 1};
}

Shape physical_shape(const Shape& logical, const Perm& perm) {
  if (perm.empty()) return logical;
  Shape out(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) out[k] = logical[static_cast<size_t>(perm[k])];
  return out;
}

int64_t element_count(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > kMaxElements / d) return kMaxElements + 1;  // saturates: too many
    n *= d;
  }
  return n;
}

std::vector<float> permute(const std::vector<float>& data, const Shape& logical, const Perm& perm) {
  if (perm.empty() || perm == identity_perm(perm.size())) return data;
  const size_t rank = logical.size();
  const Shape phys = physical_shape(logical, perm);
  // Stride in the logical data of each physical axis.
  std::vector<int64_t> logical_stride(rank, 1);
  for (size_t a = rank - 1; a-- > 0;) logical_stride[a] = logical_stride[a + 1] * logical[a + 1];
  std::vector<int64_t> stride(rank);
  for (size_t k = 0; k < rank; ++k) stride[k] = logical_stride[static_cast<size_t>(perm[k])];
  std::vector<float> out(data.size());
  std::vector<int64_t> index(rank, 0);
  for (size_t n = 0; n < out.size(); ++n) {
    int64_t from = 0;
    for (size_t k = 0; k < rank; ++k) from += index[k] * stride[k];
    out[n] = data[static_cast<size_t>(from)];
    for (size_t k = rank; k-- > 0;) {
      if (++index[k] < phys[k]) break;
      index[k] = 0;
    }
  }
  return out;
}

bool same_bytes(const Shape& logical, const Perm& a, const Perm& b) {
  auto non_unit = [&](const Perm& p) {
    std::vector<int> axes;
    for (int l : p)
      if (logical[static_cast<size_t>(l)] != 1) axes.push_back(l);
    return axes;
  };
  return non_unit(a) == non_unit(b);
}

Perm order_or_identity(const Perm& p, size_t rank) {
  return p.empty() ? identity_perm(rank) : p;
}

std::vector<float> float_values(const Value& v) {
  return v.is_float ? v.f : std::vector<float>(v.i.begin(), v.i.end());
}

Perm operand_order(const std::vector<const Value*>& operands, size_t rank) {
  for (const Value* v : operands) {
    if (!v->is_const && v->shape.size() == rank && !v->perm.empty() &&
        v->perm != identity_perm(rank)) {
      return v->perm;
    }
  }
  return identity_perm(rank);
}

namespace {

std::vector<int32_t> to_i32(const Shape& shape, const std::string& what,
                            const std::function<void(const std::string&)>& fail) {
  std::vector<int32_t> out;
  for (int64_t d : shape) {
    if (d < 0 || d > std::numeric_limits<int32_t>::max()) {
      fail(what + " has a dimension TFLite cannot hold (" + std::to_string(d) + ")");
    }
    out.push_back(static_cast<int32_t>(d));
  }
  return out;
}

template <typename T>
std::vector<T> raw_as(const std::string& raw, const std::string& name, const std::string& file) {
  if (raw.size() % sizeof(T) != 0) throw Error(file + ": initializer '" + name + "' is truncated");
  std::vector<T> out(raw.size() / sizeof(T));
  if (!raw.empty()) std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

// A TensorProto (initializer or Constant) as a constant Value.
Value tensor_value(const onnx::TensorProto& t, const std::string& file) {
  Value v;
  v.is_const = true;
  for (int64_t d : t.dims()) v.shape.push_back(d);
  const int64_t n = element_count(v.shape);
  if (n < 0 || n > kMaxElements) {
    throw Error(file + ": tensor '" + t.name() +
                "' has an unusable shape (negative, or more than " + std::to_string(kMaxElements) +
                " elements)");
  }
  const std::string& name = t.name();
  const bool raw = t.has_raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      v.f = raw ? raw_as<float>(t.raw_data(), name, file)
                : std::vector<float>(t.float_data().begin(), t.float_data().end());
      break;
    case onnx::TensorProto::DOUBLE: {
      const auto d = raw ? raw_as<double>(t.raw_data(), name, file)
                         : std::vector<double>(t.double_data().begin(), t.double_data().end());
      v.f.assign(d.begin(), d.end());
      break;
    }
    case onnx::TensorProto::FLOAT16: {
      std::vector<uint16_t> h;
      if (raw) {
        h = raw_as<uint16_t>(t.raw_data(), name, file);
      } else {
        for (int32_t x : t.int32_data()) h.push_back(static_cast<uint16_t>(x));
      }
      for (uint16_t x : h) v.f.push_back(half_to_float(x));
      break;
    }
    case onnx::TensorProto::INT64:
      v.is_float = false;
      v.i = raw ? raw_as<int64_t>(t.raw_data(), name, file)
                : std::vector<int64_t>(t.int64_data().begin(), t.int64_data().end());
      break;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL: {
      v.is_float = false;
      if (raw && t.data_type() == onnx::TensorProto::INT32) {
        for (int32_t x : raw_as<int32_t>(t.raw_data(), name, file)) v.i.push_back(x);
      } else if (raw) {
        for (char c : t.raw_data())
          v.i.push_back(t.data_type() == onnx::TensorProto::INT8
                            ? static_cast<int64_t>(static_cast<int8_t>(c))
                            : static_cast<int64_t>(static_cast<uint8_t>(c)));
      } else {
        for (int32_t x : t.int32_data()) v.i.push_back(x);
      }
      break;
    }
    default:
      throw Error(file + ": tensor '" + name + "' has ONNX data type " +
                  std::to_string(t.data_type()) + ", which pipecut does not import");
  }
  const auto have = static_cast<int64_t>(v.is_float ? v.f.size() : v.i.size());
  if (have != n) {
    throw Error(file + ": tensor '" + name + "' holds " + std::to_string(have) +
                " values for its shape's " + std::to_string(n));
  }
  return v;
}

Importer::Importer(const std::filesystem::path& path, const onnx::ModelProto& model, int opset,
                   const OnnxImportOptions& options)
    : path_(path), file_(path.string()), model_(model), opset_(opset), options_(options) {}

void Importer::check_size(const Shape& shape, const std::string& what) const {
  const int64_t n = element_count(shape);
  if (n < 0) fail(what + " has a negative dimension");
  if (n > kMaxElements) {
    fail(what + " would have more than " + std::to_string(kMaxElements) + " elements");
  }
}

void Importer::fail(const std::string& what) const {
  if (!node_) throw Error(path_.string() + ": " + what);
  const std::string name = !node_->name().empty()     ? node_->name()
                           : node_->output_size() > 0 ? node_->output(0)
                                                      : "#" + std::to_string(node_index_);
  throw Error(path_.string() + ": node '" + name + "' (" + node_->op_type() + ", opset " +
              std::to_string(opset_) + "): " + what);
}

Value& Importer::value(const std::string& name) {
  auto it = values_.find(name);
  if (it == values_.end()) fail("reads '" + name + "', which nothing before it makes");
  return it->second;
}

const Value* Importer::find_value(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

bool Importer::has_input(int i) const {
  return i < node_->input_size() && !node_->input(i).empty();
}
const std::string& Importer::input_name(int i) const {
  if (!has_input(i)) fail("input " + std::to_string(i) + " is missing");
  return node_->input(i);
}
const std::string& Importer::output_name(int i) const {
  if (i >= node_->output_size()) fail("output " + std::to_string(i) + " is missing");
  const auto it = renamed_outputs_.find(node_);
  if (it != renamed_outputs_.end()) {
    const auto r = it->second.find(i);
    if (r != it->second.end()) return r->second;
  }
  return node_->output(i);
}
const Value& Importer::in(int i) const {
  const auto it = values_.find(input_name(i));
  if (it == values_.end()) fail("reads '" + input_name(i) + "', which nothing before it makes");
  return it->second;
}

const onnx::AttributeProto* find_attr(const onnx::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
bool Importer::has_attr(const std::string& name) const {
  return find_attr(*node_, name);
}
int64_t Importer::attr_int(const std::string& name, int64_t fallback) const {
  const auto* a = find_attr(*node_, name);
  return a ? a->i() : fallback;
}
float Importer::attr_float(const std::string& name, float fallback) const {
  const auto* a = find_attr(*node_, name);
  return a ? a->f() : fallback;
}
std::string Importer::attr_string(const std::string& name, const std::string& fallback) const {
  const auto* a = find_attr(*node_, name);
  return a ? a->s() : fallback;
}
std::vector<int64_t> Importer::attr_ints(const std::string& name) const {
  const auto* a = find_attr(*node_, name);
  if (!a) return {};
  return {a->ints().begin(), a->ints().end()};
}

std::vector<int64_t> Importer::const_ints(int i) const {
  const Value& v = in(i);
  if (!v.is_const) fail("input '" + input_name(i) + "' must be a constant known at import");
  if (v.is_float) {
    std::vector<int64_t> out;
    for (float x : v.f) out.push_back(static_cast<int64_t>(x));
    return out;
  }
  return v.i;
}
std::vector<float> Importer::const_floats(int i) const {
  const Value& v = in(i);
  if (!v.is_const) fail("input '" + input_name(i) + "' must be a constant known at import");
  return float_values(v);
}

std::string Importer::aux(const std::string& what) const {
  if (node_ && node_->name().rfind('/', 0) == 0) return fresh(node_->name() + "_" + what);
  return fresh(output_name(0) + "/" + what);
}

int Importer::const_tensor(const std::string& name, const Shape& physical,
                           const std::vector<float>& data) {
  return emit_.constant(fresh(name),
                        to_i32(physical, "'" + name + "'", [this](auto& w) { fail(w); }), data);
}

int Importer::const_i32(const std::string& name, const std::vector<int32_t>& data) {
  return emit_.constant_i32(fresh(name), {static_cast<int32_t>(data.size())}, data);
}

int Importer::tensor_in(int i, const Perm& perm) {
  return tensor_of(input_name(i), perm);
}

int Importer::tensor_of(const std::string& name, const Perm& perm_arg) {
  Value& v = value(name);
  const Perm want = order_or_identity(perm_arg, v.shape.size());
  if (want.size() != v.shape.size()) fail("'" + name + "' has an unexpected rank");
  const auto key = std::make_pair(name, want);
  if (const auto it = transposed_.find(key); it != transposed_.end()) return it->second;
  int t;
  if (v.is_const) {
    t = const_tensor(name, physical_shape(v.shape, want), permute(float_values(v), v.shape, want));
  } else {
    const Perm have = order_or_identity(v.perm, v.shape.size());
    if (have == want) return v.tensor;
    const auto phys = to_i32(physical_shape(v.shape, want), name, [this](auto& w) { fail(w); });
    if (same_bytes(v.shape, have, want)) {  // only unit axes move: a free RESHAPE will do
      t = emit_.activation(fresh(name + "/reshape"), phys);
      tflite::ReshapeOptionsT o;
      o.new_shape = phys;
      tflite::BuiltinOptionsUnion u;
      u.Set(std::move(o));
      emit_.op(tflite::BuiltinOperator_RESHAPE, {v.tensor, const_i32(name + "/shape", phys)}, {t},
               std::move(u));
      transposed_[key] = t;
      return t;
    }
    std::vector<int32_t> tp;
    for (int logical : want) {
      tp.push_back(
          static_cast<int32_t>(std::find(have.begin(), have.end(), logical) - have.begin()));
    }
    t = emit_.activation(fresh(name + "/transpose"), phys);
    emit_.op(tflite::BuiltinOperator_TRANSPOSE, {v.tensor, const_i32(name + "/perm", tp)}, {t}, {});
    ++result_.transposes;
  }
  transposed_[key] = t;
  return t;
}

int Importer::new_output(int i, const Shape& logical, const Perm& perm) {
  const std::string& name = output_name(i);
  check_size(logical, "output '" + name + "'");
  const Perm p = order_or_identity(perm, logical.size());
  Value v;
  v.shape = logical;
  v.perm = p;
  v.tensor = emit_.activation(
      fresh(name),
      to_i32(physical_shape(logical, p), "output '" + name + "'", [this](auto& w) { fail(w); }));
  values_[name] = v;
  return v.tensor;
}

void Importer::set_const_output(int i, Value v) {
  check_size(v.shape, "output '" + output_name(i) + "'");
  v.is_const = true;
  values_[output_name(i)] = std::move(v);
}

void Importer::set_alias_output(int i, const Value& v) {
  values_[output_name(i)] = v;
}

const onnx::NodeProto* Importer::sole_consumer(int output) const {
  const std::string& name = output_name(output);
  if (graph_outputs_.count(name)) return nullptr;
  const auto it = readers_.find(name);
  if (it == readers_.end() || it->second.size() != 1) return nullptr;
  return it->second.front();
}

void Importer::fuse(const onnx::NodeProto& consumer, int output) {
  if (consumer.output_size() < 1) fail("fuses a node that has no output");
  fused_.insert(&consumer);
  ++result_.fused_nodes;
  renamed_outputs_[node_][output] = consumer.output(0);
}

tflite::ActivationFunctionType Importer::take_activation(int output) {
  const onnx::NodeProto* c = sole_consumer(output);
  if (!c || (!c->domain().empty() && c->domain() != "ai.onnx") || c->output_size() != 1)
    return tflite::ActivationFunctionType_NONE;
  if (c->op_type() == "Relu") {
    fuse(*c, output);
    return tflite::ActivationFunctionType_RELU;
  }
  if (c->op_type() != "Clip") return tflite::ActivationFunctionType_NONE;
  // Clip's bounds are constant inputs (opset >= 11): absent means unbounded.
  auto bound = [&](int k, float fallback) -> std::optional<float> {
    if (c->input_size() <= k || c->input(k).empty()) return fallback;
    const auto it = values_.find(c->input(k));
    if (it == values_.end() || !it->second.is_const) return std::nullopt;
    const Value& v = it->second;
    if ((v.is_float ? v.f.size() : v.i.size()) != 1) return std::nullopt;
    return v.is_float ? v.f[0] : static_cast<float>(v.i[0]);
  };
  const auto lo = bound(1, -std::numeric_limits<float>::infinity());
  const auto hi = bound(2, std::numeric_limits<float>::infinity());
  if (!lo || !hi) return tflite::ActivationFunctionType_NONE;
  tflite::ActivationFunctionType act = tflite::ActivationFunctionType_NONE;
  if (*lo == 0.0f && *hi == 6.0f) act = tflite::ActivationFunctionType_RELU6;
  if (*lo == 0.0f && std::isinf(*hi) && *hi > 0) act = tflite::ActivationFunctionType_RELU;
  if (*lo == -1.0f && *hi == 1.0f) act = tflite::ActivationFunctionType_RELU_N1_TO_1;
  if (act != tflite::ActivationFunctionType_NONE) fuse(*c, output);
  return act;
}

void Importer::read_initializers() {
  for (const auto& init : model_.graph().initializer()) {
    values_[init.name()] = tensor_value(init, path_.string());
  }
}

void Importer::read_inputs() {
  for (const auto& input : model_.graph().input()) {
    if (values_.count(input.name())) continue;  // an initializer listed as input (IR < 4)
    const auto& type = input.type().tensor_type();
    if (type.elem_type() != onnx::TensorProto::FLOAT) {
      fail("input '" + input.name() + "' is not float32 (ONNX type " +
           std::to_string(type.elem_type()) + ")");
    }
    Value v;
    for (const auto& d : type.shape().dim()) v.shape.push_back(d.dim_value());
    check_size(v.shape, "input '" + input.name() + "'");
    const bool image = v.shape.size() == 4 && !options_.keep_nchw_io;
    v.perm = image ? nhwc_perm() : identity_perm(v.shape.size());
    v.tensor = emit_.activation(
        input.name(), to_i32(physical_shape(v.shape, v.perm), "input '" + input.name() + "'",
                             [this](auto& w) { fail(w); }));
    tflite_inputs_.push_back(v.tensor);
    values_[input.name()] = v;
  }
  if (tflite_inputs_.empty()) fail("has no input that is not a weight");
}

std::vector<int32_t> Importer::finish_outputs() {
  node_ = nullptr;
  std::vector<int32_t> outputs;
  for (const auto& output : model_.graph().output()) {
    const std::string& name = output.name();
    Value& v = value(name);
    if (v.is_const) fail("output '" + name + "' is a constant; there is nothing to compute");
    // 4-D outputs are NHWC as the inputs are (docs/import.md), whatever order the data is in.
    const bool image = v.shape.size() == 4 && !options_.keep_nchw_io;
    int t = tensor_of(name, image ? nhwc_perm() : identity_perm(v.shape.size()));
    const bool is_input =
        std::find(tflite_inputs_.begin(), tflite_inputs_.end(), t) != tflite_inputs_.end();
    const bool taken = std::find(outputs.begin(), outputs.end(), t) != outputs.end();
    if (is_input || taken) {  // the output needs a tensor of its own: copy it (a reshape)
      const std::vector<int32_t> shape = emit_.shape(t);
      const int copy = emit_.activation(fresh(name + "/copy"), shape);
      tflite::ReshapeOptionsT o;
      o.new_shape = shape;
      tflite::BuiltinOptionsUnion u;
      u.Set(std::move(o));
      emit_.op(tflite::BuiltinOperator_RESHAPE, {t, const_i32(name + "/shape", shape)}, {copy},
               std::move(u));
      t = copy;
    }
    if (emit_.name(t) != name) {
      // The ONNX name goes to the tensor the model gives out; the one inside is renamed.
      if (v.tensor >= 0 && emit_.name(v.tensor) == name)
        emit_.rename(v.tensor, fresh(name + "/inner"));
      emit_.rename(t, name);
    }
    outputs.push_back(t);
  }
  return outputs;
}

void Importer::convert_node() {
  const std::string& domain = node_->domain();
  if (!domain.empty() && domain != "ai.onnx") fail("the '" + domain + "' domain is not supported");
  const Converter c = find_converter(node_->op_type());
  if (!c) fail("not supported by pipecut import");
  c(*this);
}

OnnxImportResult Importer::run() {
  const auto& graph = model_.graph();
  for (const auto& n : graph.node()) {
    for (const auto& i : n.input())
      if (!i.empty()) readers_[i].push_back(&n);
  }
  for (const auto& o : graph.output()) graph_outputs_.insert(o.name());
  read_initializers();
  read_inputs();
  // Constant nodes first: a Clip's bounds may come after the convolution it fuses into.
  std::set<const onnx::NodeProto*> done;
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& n = graph.node(i);
    if (n.op_type() != "Constant" || !(n.domain().empty() || n.domain() == "ai.onnx")) continue;
    node_ = &n;
    node_index_ = i;
    convert_node();
    done.insert(&n);
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const auto& n = graph.node(i);
    if (fused_.count(&n) || done.count(&n)) continue;
    node_ = &n;
    node_index_ = i;
    if (n.output_size() == 0) fail("has no outputs");
    convert_node();
  }
  const std::vector<int32_t> outputs = finish_outputs();

  result_.onnx_nodes = graph.node_size();
  result_.tflite_ops = emit_.op_count();
  // TRANSPOSE ops between the first and the last convolution: what the layout rules avoid.
  const auto codes = emit_.op_codes();
  auto is_conv = [](tflite::BuiltinOperator c) {
    return c == tflite::BuiltinOperator_CONV_2D || c == tflite::BuiltinOperator_DEPTHWISE_CONV_2D ||
           c == tflite::BuiltinOperator_TRANSPOSE_CONV;
  };
  const auto first = std::find_if(codes.begin(), codes.end(), is_conv);
  const auto last = std::find_if(codes.rbegin(), codes.rend(), is_conv);
  if (first != codes.end()) {
    result_.body_transposes =
        static_cast<int>(std::count(first, last.base(), tflite::BuiltinOperator_TRANSPOSE));
  }
  std::string producer = model_.producer_name();
  if (!model_.producer_version().empty()) producer += " " + model_.producer_version();
  result_.producer = producer;
  result_.tflite = emit_.finish(tflite_inputs_, outputs,
                                "pipecut import of " + path_.filename().string() +
                                    (producer.empty() ? "" : " (" + producer + ")"));
  return result_;
}

}  // namespace pipecut::onnx_import
