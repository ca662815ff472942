// The estimate of what edgetpu_compiler caches and how long one invoke takes. The layout and
// caching rules were found on real compiler reports (../shared/edgetpu-data, see
// docs/estimate.md): the compiler pads input channels to 4 and output channels to 64, adds 8
// bytes per padded output channel to a convolution, and caches layers in execution order while
// they fit, skipping (streaming) one that does not and going on with the next.
#include <algorithm>
#include <initializer_list>

#include "edgetpu/estimate_internal.h"
#include "format/tflite_schema.h"
#include "pipecut/analysis.h"
#include "pipecut/edgetpu_estimate.h"
#include "pipecut/error.h"

namespace pipecut {

namespace {

int64_t up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

// Products of padded dimensions, saturating at 1 PiB: a hostile shape must not overflow (UB)
// the estimate, and sums of thousands of saturated figures still fit.
int64_t mul(std::initializer_list<int64_t> factors) {
  constexpr int64_t kCap = int64_t{1} << 50;
  int64_t product = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(product, std::max<int64_t>(f, 0), &product) || product > kCap)
      return kCap;
  return product;
}

// Parameters and padded MACs of one op as the Edge TPU lays them out.
void layout(const Model& model, const Op& op, EstimatedOp& e) {
  using namespace tflite;
  const auto dim = [](const Tensor& t, size_t i) -> int64_t {
    return i < t.shape.size() ? t.shape[i] : 1;
  };
  const Tensor* weights =
      op.inputs.size() > 1 && op.inputs[1] >= 0 ? &model.tensor(op.inputs[1]) : nullptr;
  const Tensor* out = op.outputs.empty() ? nullptr : &model.tensor(op.outputs[0]);
  const int64_t spatial = out && out->shape.size() == 4 ? mul({dim(*out, 1), dim(*out, 2)}) : 1;
  switch (op.builtin_code) {
    case BuiltinOperator_CONV_2D:         // weights [O, KH, KW, I]
    case BuiltinOperator_TRANSPOSE_CONV:  // weights [O, KH, KW, I], input 1 too
      if (weights && weights->shape.size() == 4) {
        const int64_t o = up(dim(*weights, 0), 64), k = dim(*weights, 1) * dim(*weights, 2);
        const int64_t i = up(dim(*weights, 3), 4);
        e.param_bytes = mul({k, i, o}) + mul({8, o});
        e.padded_macs = mul({spatial, k, i, o});
      }
      return;
    case BuiltinOperator_DEPTHWISE_CONV_2D:  // [1, KH, KW, C]
      if (weights && weights->shape.size() == 4) {
        const int64_t c = up(dim(*weights, 3), 64), k = dim(*weights, 1) * dim(*weights, 2);
        e.param_bytes = mul({k, c}) + mul({8, c});
        // The 64 x 64 array runs it as a block-diagonal convolution: 1/64 of its cells work.
        e.padded_macs = mul({spatial, k, c, 64});
      }
      return;
    case BuiltinOperator_FULLY_CONNECTED:  // [O, I]
      if (weights && weights->shape.size() == 2) {
        e.param_bytes = mul({up(dim(*weights, 1), 4), up(dim(*weights, 0), 64)});
        e.padded_macs = e.param_bytes;
      }
      return;
    default:
      // Other ops' 8-bit constants (a constant addend, a PReLU slope) are taken as they are;
      // int32 operands such as paddings and axes become part of the instructions.
      for (size_t i = 0; i < op.inputs.size(); ++i) {
        if (op.inputs[i] < 0) continue;
        const Tensor& t = model.tensor(op.inputs[i]);
        if (t.is_constant() && is_8bit(t.type)) e.param_bytes += t.byte_size();
      }
      return;
  }
}

}  // namespace

EdgeTpuDevice edgetpu_device(const std::string& link) {
  EdgeTpuDevice d;
  double factor = 1;
  if (link == "usb3") return d;
  if (link == "usb3-coral") {
    d.stream_ms_per_mib = kCoralHostStreamMsPerMib;
    return d;
  }
  if (link == "usb2") {
    factor = 8.0;  // 480 Mbit/s against the 5 Gbit/s the constants were measured on, in practice
  } else if (link == "pcie") {
    factor = 0.5;
  } else {
    throw Error("--link: '" + link + "' is not usb3, usb3-coral, usb2 or pcie");
  }
  d.stream_ms_per_mib *= factor;
  d.input_ms_per_mib *= factor;
  d.output_ms_per_mib *= factor;
  return d;
}

std::vector<std::string> edgetpu_link_names() {
  return {"usb3", "usb3-coral", "usb2", "pcie"};
}

OpCost op_cost(const EstimatedOp& e) {
  return {e.on_tpu, e.type == "FULLY_CONNECTED", e.param_bytes, e.padded_macs, e.macs};
}

SegmentTime time_segment(std::span<const OpCost> ops, int64_t input_bytes, int64_t output_bytes,
                         const EdgeTpuDevice& device, std::vector<OpTiming>* per_op) {
  SegmentTime t;
  t.cache_bytes = std::max<int64_t>(
      0,
      device.cache_bytes -
          static_cast<int64_t>(device.io_share * static_cast<double>(input_bytes + output_bytes)));
  auto& lat = t.latency;
  bool any_on_tpu = false;
  for (const OpCost& op : ops) {
    OpTiming o;
    if (!op.on_tpu) {
      o.ms = static_cast<double>(op.macs) / 1e9 * device.cpu_ms_per_gmac;
      lat.cpu += o.ms;
      if (per_op) per_op->push_back(o);
      continue;
    }
    any_on_tpu = true;
    // Caching: in execution order, each layer whose weights still fit.
    if (op.param_bytes > 0) {
      if (t.on_chip_bytes + op.param_bytes <= t.cache_bytes) {
        o.cached = true;
        t.on_chip_bytes += op.param_bytes;
      } else {
        t.off_chip_bytes += op.param_bytes;
      }
    }
    const bool streamed = op.param_bytes > 0 && !o.cached;
    const double gmac = static_cast<double>(op.padded_macs) / 1e9;
    double compute = device.per_op_ms;
    if (op.dense) {
      compute += static_cast<double>(op.param_bytes) / kMiB * device.fc_ms_per_mib;
    } else {
      compute += gmac * device.conv_ms_per_gmac;
      if (streamed) compute += gmac * device.streamed_conv_ms_per_gmac;
    }
    const double stream =
        streamed ? static_cast<double>(op.param_bytes) / kMiB * device.stream_ms_per_mib : 0;
    o.ms = compute + stream;
    lat.compute += compute;
    lat.stream += stream;
    if (per_op) per_op->push_back(o);
  }
  if (any_on_tpu) {
    lat.invoke = device.invoke_ms;
    lat.input = static_cast<double>(input_bytes) / kMiB * device.input_ms_per_mib;
    lat.output = static_cast<double>(output_bytes) / kMiB * device.output_ms_per_mib;
  }
  return t;
}

std::vector<bool> one_subgraph(const std::vector<bool>& supported) {
  // Leading host ops (a QUANTIZE from float) stay on the CPU, the mapped run ends at the first
  // op the compiler cannot map, and every later op stays on the CPU.
  std::vector<bool> mapped(supported.size(), false);
  bool started = false;
  for (size_t i = 0; i < supported.size(); ++i) {
    if (!supported[i]) {
      if (started) break;
      continue;
    }
    started = true;
    mapped[i] = true;
  }
  return mapped;
}

std::vector<EstimatedOp> map_ops(const Model& model) {
  std::vector<EstimatedOp> ops;
  const auto macs = op_macs(model);
  for (const Op& op : model.ops()) {
    EstimatedOp e;
    e.op = op.index;
    e.type = model.op_type(op);
    if (!op.outputs.empty()) e.layer = short_tensor_name(model.tensor(op.outputs[0]).name);
    e.macs = macs[static_cast<size_t>(op.index)];
    e.cpu_reason = edgetpu_cpu_reason(model, op);
    e.on_tpu = e.cpu_reason.empty();
    layout(model, op, e);
    ops.push_back(std::move(e));
  }
  return ops;
}

EdgeTpuEstimate estimate_edgetpu(const Model& model, const EdgeTpuDevice& device) {
  EdgeTpuEstimate est;
  est.ops = map_ops(model);
  std::vector<bool> supported;
  for (const auto& e : est.ops) supported.push_back(e.on_tpu);
  const std::vector<bool> mapped = one_subgraph(supported);
  for (size_t i = 0; i < est.ops.size(); ++i) {
    auto& e = est.ops[i];
    if (e.on_tpu && !mapped[i])
      e.cpu_reason = "after the first op the Edge TPU cannot run (the compiler maps one subgraph)";
    e.on_tpu = mapped[i];
    if (!e.on_tpu) e.param_bytes = e.padded_macs = 0;
  }

  // What crosses the link: the mapped run's inputs and outputs that are not its own constants.
  const size_t tensors = model.tensors().size();
  std::vector<int> made_by(tensors, -1);
  std::vector<bool> read_on_tpu(tensors, false), read_on_cpu(tensors, false);
  for (const Op& op : model.ops()) {
    for (int t : op.outputs) made_by[static_cast<size_t>(t)] = op.index;
    const bool on_tpu = est.ops[static_cast<size_t>(op.index)].on_tpu;
    for (int t : op.inputs)
      if (t >= 0) (on_tpu ? read_on_tpu : read_on_cpu)[static_cast<size_t>(t)] = true;
  }
  for (int t : model.outputs()) read_on_cpu[static_cast<size_t>(t)] = true;
  for (size_t t = 0; t < tensors; ++t) {
    const Tensor& tensor = model.tensor(static_cast<int>(t));
    if (tensor.is_constant()) continue;
    const bool from_tpu = made_by[t] >= 0 && est.ops[static_cast<size_t>(made_by[t])].on_tpu;
    if (!from_tpu && read_on_tpu[t]) est.input_bytes += tensor.byte_size();
    if (from_tpu && read_on_cpu[t]) est.output_bytes += tensor.byte_size();
  }

  std::vector<OpCost> costs;
  for (const auto& e : est.ops) costs.push_back(op_cost(e));
  std::vector<OpTiming> times;
  const SegmentTime t = time_segment(costs, est.input_bytes, est.output_bytes, device, &times);
  est.cache_bytes = t.cache_bytes;
  est.on_chip_bytes = t.on_chip_bytes;
  est.off_chip_bytes = t.off_chip_bytes;
  est.param_bytes = t.on_chip_bytes + t.off_chip_bytes;
  est.latency = t.latency;
  for (size_t i = 0; i < est.ops.size(); ++i) {
    auto& e = est.ops[i];
    e.cached = times[i].cached;
    e.ms = times[i].ms;
    if (e.on_tpu) {
      ++est.ops_on_tpu;
    } else {
      ++est.ops_on_cpu;
    }
    if (e.on_tpu && e.param_bytes > 0 && !e.cached)
      est.streamed.push_back(e.layer.empty() ? e.type : e.layer);
  }
  est.subgraphs = est.ops_on_tpu > 0 ? 1 : 0;
  return est;
}

}  // namespace pipecut
