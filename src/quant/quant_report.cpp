// qreport: weight divergence and output SQNR per layer, output closeness per model.
#include "pipecut/quant_report.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "quant/weight_formats.h"

namespace pipecut {

namespace {

using quant::js_divergence;
using quant::real_values;
using quant::requantized;

bool has_weights(const Op& op) {
  const std::string name = builtin_op_name(op.builtin_code);
  return name == "CONV_2D" || name == "DEPTHWISE_CONV_2D" || name == "FULLY_CONNECTED" ||
         name == "TRANSPOSE_CONV";
}

// The filter and bias operands: TRANSPOSE_CONV reads (output shape, filter, input, bias).
std::pair<int, int> filter_and_bias(const Op& op) {
  const bool transpose = builtin_op_name(op.builtin_code) == "TRANSPOSE_CONV";
  const size_t f = 1, b = transpose ? 3 : 2;
  return {f < op.inputs.size() ? op.inputs[f] : -1, b < op.inputs.size() ? op.inputs[b] : -1};
}

// A runtime value as real numbers (8-bit dequantized with its own parameters).
std::vector<double> real_values(const TensorValue& v) {
  Tensor t;
  t.type = v.type;
  t.shape = v.shape;
  t.quant = v.quant;
  t.data = std::span<const uint8_t>(v.data);
  return real_values(t);
}

// The float input as the quantized model wants it: quantized with its input's parameters.
TensorValue as_input(const TensorValue& real, const TensorSpec& spec, const std::string& model) {
  if (real.type != DType::kFloat32 || real.shape != spec.shape)
    throw Error(model + ": input " + spec.name +
                " does not take the float model's input as it is (another shape or type)");
  if (spec.type == DType::kFloat32) {
    TensorValue v = real;
    v.name = spec.name;
    return v;
  }
  if ((spec.type != DType::kInt8 && spec.type != DType::kUInt8) || spec.quant.scale.size() != 1)
    throw Error(model + ": input " + spec.name + " is neither float32 nor 8-bit per-tensor");
  TensorValue v;
  v.name = spec.name;
  v.type = spec.type;
  v.shape = spec.shape;
  v.quant = spec.quant;
  const size_t n = real.data.size() / 4;
  if (static_cast<int64_t>(n) != spec.byte_size())
    throw Error(model + ": input " + spec.name + " has another size than the float model's");
  v.data.resize(n);
  const double scale = spec.quant.scale[0];
  const double zp =
      static_cast<double>(spec.quant.zero_point.empty() ? 0 : spec.quant.zero_point[0]);
  const double lo = spec.type == DType::kInt8 ? -128 : 0,
               hi = spec.type == DType::kInt8 ? 127 : 255;
  for (size_t i = 0; i < n; ++i) {
    float f;
    std::memcpy(&f, real.data.data() + 4 * i, 4);
    const double q = std::clamp(std::nearbyint(f / scale + zp), lo, hi);
    v.data[i] = spec.type == DType::kInt8 ? static_cast<uint8_t>(static_cast<int8_t>(q))
                                          : static_cast<uint8_t>(q);
  }
  return v;
}

// Signal and noise power over every element compared; NaN when nothing was (a value this cannot
// read, or outputs of different sizes), +inf when equal, -inf when the reference is all zeros.
struct Power {
  double signal = 0, noise = 0;
  int64_t compared = 0;
  bool mismatched = false;
  void add(const std::vector<double>& ref, const std::vector<double>& got) {
    if (ref.size() != got.size() || ref.empty()) {
      mismatched = true;
      return;
    }
    for (size_t i = 0; i < ref.size(); ++i) {
      signal += ref[i] * ref[i];
      noise += (ref[i] - got[i]) * (ref[i] - got[i]);
    }
    compared += static_cast<int64_t>(ref.size());
  }
  double db() const {
    if (mismatched || compared == 0) return std::numeric_limits<double>::quiet_NaN();
    if (noise == 0) return std::numeric_limits<double>::infinity();
    if (signal == 0) return -std::numeric_limits<double>::infinity();
    return 10 * std::log10(signal / noise);
  }
};

// Cosine similarity; 1 when both are zero, 0 when one is.
double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : (na == nb ? 1.0 : 0.0);
}

}  // namespace

std::vector<QuantSegment> quant_segments(const QuantReport& report,
                                         std::vector<QuantSegment> segments) {
  for (QuantSegment& s : segments) {
    s.layers = 0;
    s.divergence_sum = 0;
    s.worst_sqnr_db = std::numeric_limits<double>::quiet_NaN();
    s.worst_layer.clear();
    for (const QuantLayer& l : report.layers) {
      if (l.quant_op < s.first_op || l.quant_op > s.last_op) continue;
      ++s.layers;
      if (std::isfinite(l.divergence)) s.divergence_sum += l.divergence;
      if (!std::isnan(l.sqnr_db) && (std::isnan(s.worst_sqnr_db) || l.sqnr_db < s.worst_sqnr_db)) {
        s.worst_sqnr_db = l.sqnr_db;
        s.worst_layer = l.name;
      }
    }
  }
  return segments;
}

QuantReport quant_report(const Model& float_model, const Model& quantized,
                         const std::vector<std::vector<TensorValue>>& float_inputs,
                         const ProgressFn& progress, const QuantReportOptions& options) {
  const std::string fname = float_model.origin(), qname = quantized.origin();
  std::vector<int> float_layers, quant_layers;
  for (const Op& op : float_model.ops())
    if (has_weights(op)) float_layers.push_back(op.index);
  for (const Op& op : quantized.ops())
    if (has_weights(op)) quant_layers.push_back(op.index);
  for (int op : float_layers) {
    const int f = filter_and_bias(float_model.ops()[static_cast<size_t>(op)]).first;
    if (f >= 0 && float_model.tensor(f).type != DType::kFloat32)
      throw Error(fname + ": is not a float model (its weights are " +
                  dtype_name(float_model.tensor(f).type) + "); give the float model first");
  }
  if (float_layers.empty()) throw Error(fname + ": has no convolution or dense layer to compare");
  bool any_8bit = false;
  for (int op : quant_layers) {
    const int f = filter_and_bias(quantized.ops()[static_cast<size_t>(op)]).first;
    any_8bit = any_8bit || (f >= 0 && (quantized.tensor(f).type == DType::kInt8 ||
                                       quantized.tensor(f).type == DType::kUInt8));
  }
  if (!any_8bit) throw Error(qname + ": has no 8-bit weights; give the quantized model second");

  // Pair the layers: by output tensor name, else by order when both have as many.
  std::map<std::string, int> quant_by_name;
  for (int op : quant_layers) {
    const Op& o = quantized.ops()[static_cast<size_t>(op)];
    if (!o.outputs.empty()) quant_by_name[quantized.tensor(o.outputs[0]).name] = op;
  }
  QuantReport report;
  // By name wherever the output tensors' names agree; the rest in order, each pair checked to be
  // the same op on weights of the same shape with outputs of the same size.
  std::map<int, int> pair;  // float op -> quantized op
  std::vector<int> float_rest;
  std::set<int> quant_taken;
  for (int op : float_layers) {
    const Op& o = float_model.ops()[static_cast<size_t>(op)];
    const auto it = o.outputs.empty() ? quant_by_name.end()
                                      : quant_by_name.find(float_model.tensor(o.outputs[0]).name);
    if (it != quant_by_name.end() && !quant_taken.count(it->second)) {
      pair[op] = it->second;
      quant_taken.insert(it->second);
    } else {
      float_rest.push_back(op);
    }
  }
  std::vector<int> quant_rest;
  for (int op : quant_layers)
    if (!quant_taken.count(op)) quant_rest.push_back(op);
  if (float_rest.size() > quant_rest.size())
    throw Error(qname + ": has fewer layers with weights than " + fname +
                " where their names differ; they cannot be paired");
  for (size_t i = 0; i < float_rest.size(); ++i) {
    const Op& fo = float_model.ops()[static_cast<size_t>(float_rest[i])];
    const Op& qo = quantized.ops()[static_cast<size_t>(quant_rest[i])];
    const int ff = filter_and_bias(fo).first, qf = filter_and_bias(qo).first;
    const bool same = fo.builtin_code == qo.builtin_code && ff >= 0 && qf >= 0 &&
                      float_model.tensor(ff).shape == quantized.tensor(qf).shape &&
                      !fo.outputs.empty() && !qo.outputs.empty() &&
                      float_model.tensor(fo.outputs[0]).num_elements() ==
                          quantized.tensor(qo.outputs[0]).num_elements();
    if (!same)
      throw Error(qname + ": op " + std::to_string(qo.index) + " (" +
                  builtin_op_name(qo.builtin_code) + ") does not match " + fname + "'s op " +
                  std::to_string(fo.index) + " (" + builtin_op_name(fo.builtin_code) +
                  ") in op type, weight shape or output size; the layers cannot be paired");
    pair[float_rest[i]] = quant_rest[i];
  }
  report.matched_by = float_rest.empty()                         ? "name"
                      : float_rest.size() == float_layers.size() ? "order"
                                                                 : "name and order";
  const std::vector<int64_t> macs = op_macs(float_model);
  for (size_t i = 0; i < float_layers.size(); ++i) {
    const Op& fo = float_model.ops()[static_cast<size_t>(float_layers[i])];
    QuantLayer layer;
    layer.float_op = fo.index;
    layer.name = fo.outputs.empty() ? "" : float_model.tensor(fo.outputs[0]).name;
    layer.op_type = builtin_op_name(fo.builtin_code);
    layer.quant_op = pair.at(fo.index);
    layer.macs = macs[static_cast<size_t>(fo.index)];
    const Op& qo = quantized.ops()[static_cast<size_t>(layer.quant_op)];
    const auto [ff, fb] = filter_and_bias(fo);
    const auto [qf, qb] = filter_and_bias(qo);
    layer.weight_divergence =
        ff >= 0 && qf >= 0
            ? js_divergence(real_values(float_model.tensor(ff)), real_values(quantized.tensor(qf)))
            : std::numeric_limits<double>::quiet_NaN();
    layer.divergence = layer.weight_divergence;
    if (fb >= 0 && qb >= 0)  // a bias read on both sides; NaN (unreadable) makes the layer's NaN
      layer.divergence +=
          js_divergence(real_values(float_model.tensor(fb)), real_values(quantized.tensor(qb)));
    // Other formats score the weights alone (their biases would stay 32-bit).
    layer.pot_divergence = layer.fp8_divergence = std::numeric_limits<double>::quiet_NaN();
    if (ff >= 0 && (options.pot || options.fp8)) {
      const Tensor& wt = float_model.tensor(ff);
      const auto w = real_values(wt);
      const bool depthwise = layer.op_type == "DEPTHWISE_CONV_2D";
      if (options.pot)
        layer.pot_divergence = js_divergence(w, requantized(w, wt.shape, depthwise, false));
      if (options.fp8)
        layer.fp8_divergence = js_divergence(w, requantized(w, wt.shape, depthwise, true));
    }
    report.layers.push_back(layer);
  }

  // Both models on the same inputs, keeping every compared layer's output.
  std::vector<std::string> float_keep, quant_keep;
  std::map<std::string, std::string> quant_name;  // float output name -> quantized one
  for (const auto& l : report.layers) {
    const Op& qo = quantized.ops()[static_cast<size_t>(l.quant_op)];
    if (qo.outputs.empty()) continue;
    float_keep.push_back(l.name);
    quant_keep.push_back(quantized.tensor(qo.outputs[0]).name);
    quant_name[l.name] = quant_keep.back();
  }
  // The extra tensors, where both models have one of that name.
  const auto has_tensor = [](const Model& m, const std::string& name) {
    for (const Tensor& t : m.tensors())
      if (t.name == name) return true;
    return false;
  };
  std::map<std::string, Power> tensor_power;
  std::map<std::string, double> tensor_cosine;
  for (const std::string& name : options.tensors) {
    if (!has_tensor(float_model, name) || !has_tensor(quantized, name) || tensor_cosine.count(name))
      continue;
    tensor_cosine[name] = 1;
    float_keep.push_back(name);
    quant_keep.push_back(name);
  }
  CpuOptions fopt, qopt;
  fopt.keep = float_keep;
  qopt.keep = quant_keep;
  const auto fexe = load_cpu(float_model, fopt);
  const auto qexe = load_cpu(quantized, qopt);
  if (fexe->inputs().size() != qexe->inputs().size() || fexe->outputs().empty() ||
      qexe->outputs().empty())
    throw Error(qname + ": its inputs and outputs do not correspond to " + fname + "'s");
  std::map<std::string, Power> layer_power;
  Power output_power;
  double cosine_sum = 0, cosine_min = 1;
  for (size_t n = 0; n < float_inputs.size(); ++n) {
    if (progress)
      progress(static_cast<int64_t>(n), static_cast<int64_t>(float_inputs.size()),
               "running both models");
    const auto& in = float_inputs[n];
    std::vector<TensorValue> qin;
    for (size_t k = 0; k < in.size() && k < qexe->inputs().size(); ++k)
      qin.push_back(as_input(in[k], qexe->inputs()[k], qname));
    const auto fout = fexe->run(in);
    const auto qout = qexe->run(qin);
    const auto fkept = fexe->kept(), qkept = qexe->kept();
    std::map<std::string, const TensorValue*> qby;
    for (const auto& v : qkept) qby[v.name] = &v;
    for (const auto& v : fkept) {
      if (tensor_cosine.count(v.name) && qby.count(v.name)) {
        const auto a = real_values(v), b = real_values(*qby[v.name]);
        if (a.size() == b.size()) {
          tensor_power[v.name].add(a, b);
          tensor_cosine[v.name] = std::min(tensor_cosine[v.name], cosine(a, b));
        } else {
          tensor_cosine[v.name] = std::numeric_limits<double>::quiet_NaN();
        }
      }
      const auto it = quant_name.find(v.name);
      if (it == quant_name.end() || !qby.count(it->second)) continue;
      layer_power[v.name].add(real_values(v), real_values(*qby[it->second]));
    }
    const auto a = real_values(fout[0]), b = real_values(qout[0]);
    if (a.size() != b.size() || a.empty())
      throw Error(qname + ": its first output has another size than " + fname + "'s");
    output_power.add(a, b);
    const double c = cosine(a, b);
    cosine_sum += c;
    cosine_min = std::min(cosine_min, c);
    const auto argmax = [](const std::vector<double>& v) {
      return std::max_element(v.begin(), v.end()) - v.begin();
    };
    report.top1_agree += argmax(a) == argmax(b);
  }
  report.inputs = static_cast<int>(float_inputs.size());
  if (!options.pot) report.pot_divergence_sum = std::numeric_limits<double>::quiet_NaN();
  if (!options.fp8) report.fp8_divergence_sum = std::numeric_limits<double>::quiet_NaN();
  if (report.inputs > 0) {
    report.output_cosine_mean = cosine_sum / report.inputs;
    report.output_cosine_min = cosine_min;
    report.output_sqnr_db = output_power.db();
  }
  const auto add = [](double& sum, double v) {
    if (!std::isnan(sum) && std::isfinite(v)) sum += v;
  };
  for (const std::string& name : options.tensors) {
    QuantTensor t{name, std::numeric_limits<double>::quiet_NaN(),
                  std::numeric_limits<double>::quiet_NaN()};
    const auto c = tensor_cosine.find(name);
    const auto p = tensor_power.find(name);
    if (c != tensor_cosine.end() && p != tensor_power.end() && !std::isnan(c->second)) {
      t.sqnr_db = p->second.db();
      t.cosine_min = c->second;
    }
    report.tensors.push_back(t);
  }
  for (auto& l : report.layers) {
    const auto it = layer_power.find(l.name);
    l.sqnr_db =
        it == layer_power.end() ? std::numeric_limits<double>::quiet_NaN() : it->second.db();
    if (std::isnan(l.divergence)) ++report.unscored_layers;  // left out of the sums
    const double m = static_cast<double>(std::max<int64_t>(l.macs, 1));
    add(report.divergence_sum, l.divergence);
    add(report.divergence_log10_macs, l.divergence * std::log10(m));
    add(report.divergence_cbrt_macs, l.divergence * std::cbrt(m));
    add(report.weight_divergence_sum, l.weight_divergence);
    add(report.pot_divergence_sum, l.pot_divergence);  // stays NaN when not asked for
    add(report.fp8_divergence_sum, l.fp8_divergence);
  }
  return report;
}

}  // namespace pipecut
