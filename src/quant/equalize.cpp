// Cross-layer equalization of a float model: consecutive convolution pairs get equal per-channel
// weight ranges (see quant.h), so per-tensor weight scales fit every channel.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>

#include "format/tflite_schema.h"
#include "pipecut/error.h"
#include "pipecut/quant.h"

namespace pipecut {

namespace {

using tflite::BuiltinOperator;

// A float32 constant of the unpacked model, read and written in place.
struct FloatView {
  tflite::BufferT* buffer = nullptr;
  std::vector<int32_t> shape;
  std::vector<float> values;
  bool load(tflite::ModelT& m, const tflite::SubGraphT& g, int t) {
    if (t < 0) return false;
    const auto& tensor = *g.tensors[static_cast<size_t>(t)];
    if (tensor.type != tflite::TensorType_FLOAT32 || tensor.buffer == 0) return false;
    if (tensor.buffer >= m.buffers.size()) return false;
    buffer = m.buffers[tensor.buffer].get();
    size_t n = 1;
    for (int32_t d : tensor.shape) n *= static_cast<size_t>(std::max(d, 0));
    if (!buffer || buffer->data.size() != n * 4 || n == 0) return false;
    shape = tensor.shape;
    values.resize(n);
    std::memcpy(values.data(), buffer->data.data(), n * 4);
    return true;
  }
  void store() { std::memcpy(buffer->data.data(), values.data(), values.size() * 4); }
};

class Equalizer {
 public:
  explicit Equalizer(tflite::ModelT& m) : m_(m), g_(*m.subgraphs.at(0)) {
    for (const auto& op : g_.operators) {
      for (int32_t t : op->inputs)
        if (t >= 0) ++readers_[t];
    }
    for (const auto& t : g_.tensors) ++buffer_users_[t->buffer];
  }

  int sweep() {
    int pairs = 0;
    for (size_t a = 0; a < g_.operators.size(); ++a) {
      for (size_t b = a + 1; b < g_.operators.size(); ++b) {
        if (equalize(*g_.operators[a], *g_.operators[b])) {
          ++pairs;
          break;
        }
      }
    }
    return pairs;
  }

 private:
  BuiltinOperator code(const tflite::OperatorT& op) const {
    if (op.opcode_index >= m_.operator_codes.size()) return tflite::BuiltinOperator_CUSTOM;
    const auto& c = *m_.operator_codes[op.opcode_index];
    // Files before schema 3a keep the code in the 8-bit field only.
    return static_cast<BuiltinOperator>(
        std::max<int32_t>(c.deprecated_builtin_code, static_cast<int32_t>(c.builtin_code)));
  }
  bool is_conv(const tflite::OperatorT& op) const {
    return code(op) == tflite::BuiltinOperator_CONV_2D ||
           code(op) == tflite::BuiltinOperator_DEPTHWISE_CONV_2D;
  }
  // NONE or RELU: scaling a channel by s > 0 commutes with them (ReLU6 and the like do not).
  bool scale_equivariant(const tflite::OperatorT& op) const {
    tflite::ActivationFunctionType act = tflite::ActivationFunctionType_NONE;
    if (const auto* o = op.builtin_options.AsConv2DOptions()) act = o->fused_activation_function;
    if (const auto* o = op.builtin_options.AsDepthwiseConv2DOptions())
      act = o->fused_activation_function;
    return act == tflite::ActivationFunctionType_NONE || act == tflite::ActivationFunctionType_RELU;
  }
  int multiplier(const tflite::OperatorT& op) const {
    const auto* o = op.builtin_options.AsDepthwiseConv2DOptions();
    return o ? std::max(o->depth_multiplier, 1) : 1;
  }
  // The constant is this op's alone: one tensor on its buffer, one reader of the tensor.
  bool own(int t) const {
    if (t < 0 || static_cast<size_t>(t) >= g_.tensors.size()) return false;
    const auto users = buffer_users_.find(g_.tensors[static_cast<size_t>(t)]->buffer);
    const auto readers = readers_.find(t);
    return users != buffer_users_.end() && users->second == 1 && readers != readers_.end() &&
           readers->second == 1;
  }

  bool equalize(tflite::OperatorT& first, tflite::OperatorT& second) {
    if (!is_conv(first) || !is_conv(second) || first.outputs.size() != 1) return false;
    const int32_t y = first.outputs[0];
    if (second.inputs.empty() || second.inputs[0] != y) return false;
    if (const auto it = readers_.find(y); it == readers_.end() || it->second != 1) return false;
    if (std::find(g_.outputs.begin(), g_.outputs.end(), y) != g_.outputs.end()) return false;
    if (!scale_equivariant(first)) return false;
    const bool second_dw = code(second) == tflite::BuiltinOperator_DEPTHWISE_CONV_2D;
    if (second_dw && multiplier(second) != 1) return false;
    if (first.inputs.size() < 2 || second.inputs.size() < 2) return false;
    if (!own(first.inputs[1]) || !own(second.inputs[1])) return false;
    if (first.inputs[1] == second.inputs[1]) return false;
    FloatView wa, wb, ba;
    if (!wa.load(m_, g_, first.inputs[1]) || !wb.load(m_, g_, second.inputs[1])) return false;
    if (wa.shape.size() != 4 || wb.shape.size() != 4) return false;
    const bool has_bias = first.inputs.size() > 2 && first.inputs[2] >= 0;
    if (has_bias && (!own(first.inputs[2]) || !ba.load(m_, g_, first.inputs[2]))) return false;
    const bool first_dw = code(first) == tflite::BuiltinOperator_DEPTHWISE_CONV_2D;
    const int64_t channels = first_dw ? wa.shape.back() : wa.shape.front();
    if ((second_dw ? wb.shape.back() : wb.shape.back()) != channels) return false;
    if (has_bias && static_cast<int64_t>(ba.values.size()) != channels) return false;
    if (channels <= 0 || static_cast<int64_t>(wa.values.size()) % channels != 0) return false;
    // The bound holds for the product of all sweeps' scales of this channel.
    std::vector<float>& total = cumulative_[first.inputs[1]];
    if (total.size() != static_cast<size_t>(channels))
      total.assign(static_cast<size_t>(channels), 1.0f);
    // Channel c of the first op's output; channel c of the second op's input.
    const auto out_channel = [&](size_t e) {
      return first_dw
                 ? static_cast<int64_t>(e) % channels
                 : static_cast<int64_t>(e) / (static_cast<int64_t>(wa.values.size()) / channels);
    };
    const auto in_channel = [&](size_t e) { return static_cast<int64_t>(e) % channels; };
    std::vector<float> r1(static_cast<size_t>(channels), 0.0f), r2(r1.size(), 0.0f);
    for (size_t e = 0; e < wa.values.size(); ++e)
      r1[static_cast<size_t>(out_channel(e))] =
          std::max(r1[static_cast<size_t>(out_channel(e))], std::abs(wa.values[e]));
    for (size_t e = 0; e < wb.values.size(); ++e)
      r2[static_cast<size_t>(in_channel(e))] =
          std::max(r2[static_cast<size_t>(in_channel(e))], std::abs(wb.values[e]));
    std::vector<float> s(r1.size(), 1.0f);
    bool changed = false;
    for (size_t c = 0; c < s.size(); ++c) {
      if (r1[c] > 0 && r2[c] > 0 && std::isfinite(r1[c]) && std::isfinite(r2[c])) {
        // Bounded: a channel with tiny weights but a real bias would otherwise be scaled up
        // by 100x or more, its activations then widen the whole tensor's int8 range and crush
        // the other channels (on VWW unbounded scales cost 6 of 18 photos; see quantize.md).
        const float want = std::sqrt(r1[c] / r2[c]) * total[c];
        s[c] = std::clamp(want, 0.25f, 4.0f) / total[c];
        changed = changed || std::abs(s[c] - 1.0f) > 1e-3f;
      }
    }
    if (!changed) return false;
    for (size_t e = 0; e < wa.values.size(); ++e)
      wa.values[e] /= s[static_cast<size_t>(out_channel(e))];
    for (size_t e = 0; e < wb.values.size(); ++e)
      wb.values[e] *= s[static_cast<size_t>(in_channel(e))];
    for (size_t c = 0; c < ba.values.size(); ++c) ba.values[c] /= s[c];
    for (size_t c = 0; c < s.size(); ++c) total[c] *= s[c];
    wa.store();
    wb.store();
    if (has_bias) ba.store();
    return true;
  }

  tflite::ModelT& m_;
  tflite::SubGraphT& g_;
  std::map<int32_t, int> readers_;
  std::map<int32_t, std::vector<float>> cumulative_;  // by the first op's weights: scale so far
  std::map<uint32_t, int> buffer_users_;
};

}  // namespace

std::vector<uint8_t> equalize_model(const Model& model, int* pairs) {
  std::unique_ptr<tflite::ModelT> m(model.flatbuffer()->UnPack());
  if (m->subgraphs.size() != 1) throw Error(model.origin() + ": equalize needs one subgraph");
  for (const auto& buffer : m->buffers)
    if (buffer && buffer->offset > 1)
      throw Error(model.origin() + ": buffers stored past the flatbuffer are not supported");
  Equalizer equalizer(*m);
  int total = 0;
  for (int sweep = 0; sweep < 3; ++sweep) total = std::max(total, equalizer.sweep());
  if (pairs) *pairs = total;
  flatbuffers::FlatBufferBuilder fbb;
  tflite::FinishModelBuffer(fbb, tflite::Model::Pack(fbb, m.get()));
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

}  // namespace pipecut
