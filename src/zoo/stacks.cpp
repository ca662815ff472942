// The calibration architectures of ../shared/edgetpu-data, so the Edge TPU estimate can be run on
// the very shapes the compiler reports and latencies were measured on: stacks of 3x3 'same'
// convolutions with ReLU, and stacks of dense layers with tanh (Keras Sequential layouts).
#include <string>

#include "pipecut/error.h"
#include "pipecut/zoo.h"
#include "zoo/builder.h"

namespace pipecut {

std::vector<uint8_t> build_conv_stack(int height, int width, int channels, int layers, int filters,
                                      const ZooOptions& options) {
  if (options.float_model) throw Error("zoo: the Edge TPU calibration stacks are int8 only");
  if (height < 1 || width < 1 || channels < 1 || layers < 1 || filters < 1 || height > 4096 ||
      width > 4096 || channels > 8192 || filters > 8192 || layers > 1000)
    throw Error("conv stack: shape, layers and filters must be positive and reasonable");
  zoo::GraphBuilder g(options.seed);
  zoo::Node x = g.input("input_1", {1, height, width, channels});
  for (int i = 1; i <= layers; ++i) {
    const std::string name = "conv2d_" + std::to_string(i);
    zoo::ConvSpec spec;
    spec.output = zoo::tf_name(name + "/Relu;") + zoo::tf_name(name + "/BiasAdd");
    spec.weights = zoo::tf_name(name + "/Conv2D");
    spec.bias = zoo::tf_name(name + "/BiasAdd/ReadVariableOp");
    spec.filters = filters;
    spec.kernel = 3;
    spec.padding = zoo::Padding::kSame;
    spec.activation = zoo::Activation::kRelu;
    spec.batch_norm = false;
    x = g.conv2d(x, spec);
  }
  g.set_output(x, "output_1");
  return g.finish("pipecut zoo conv stack: " + std::to_string(layers) + " x Conv2D(" +
                  std::to_string(filters) + ", 3x3, same, ReLU) on " + std::to_string(height) +
                  "x" + std::to_string(width) + "x" + std::to_string(channels));
}

std::vector<uint8_t> build_dense_stack(const std::vector<int>& widths, bool tanh_after_last,
                                       const ZooOptions& options) {
  if (options.float_model) throw Error("zoo: the Edge TPU calibration stacks are int8 only");
  if (widths.size() < 2) throw Error("dense stack: give the input width and at least one layer");
  for (int w : widths)
    if (w < 1 || w > 1 << 20) throw Error("dense stack: widths must be positive and reasonable");
  zoo::GraphBuilder g(options.seed);
  zoo::Node x = g.input("input_1", {1, widths[0]});
  for (size_t i = 1; i < widths.size(); ++i) {
    const std::string name = "dense_" + std::to_string(i);
    x = g.dense(x, zoo::keras_dense(name, widths[i], false));
    if (i + 1 < widths.size() || tanh_after_last) x = g.tanh(x, zoo::tf_name(name + "/Tanh"));
  }
  g.set_output(x, "output_1");
  std::string shape;
  for (int w : widths) shape += (shape.empty() ? "" : " -> ") + std::to_string(w);
  return g.finish("pipecut zoo dense stack with tanh: " + shape);
}

}  // namespace pipecut
