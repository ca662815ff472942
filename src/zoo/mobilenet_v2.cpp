// MobileNetV2 (alpha 1.0, 224x224x3) in the keras.applications layout and with the TF
// converter's tensor names: Conv1 3x3/2 (bn_Conv1, Conv1_relu ReLU6), 17 inverted residual
// blocks (expanded_conv_ then block_1 .. block_16: _expand 1x1 + _expand_BN + _expand_relu,
// _pad before stride-2 depthwise convs, _depthwise 3x3 + _depthwise_BN + _depthwise_relu,
// _project 1x1 + _project_BN, _add when the shape is kept), Conv_1 1x1 to 1280 (Conv_1_bn,
// out_relu), global_average_pooling2d, predictions (dense 1000 + softmax). No conv has a bias in
// Keras; the folded batch norm gives each one.
#include <algorithm>
#include <string>

#include "zoo/models.h"

namespace pipecut::zoo {

namespace {

// keras.applications.mobilenet_v2._make_divisible.
int make_divisible(double v, int divisor) {
  int new_v = std::max(divisor, static_cast<int>(v + divisor / 2.0) / divisor * divisor);
  if (new_v < 0.9 * v) new_v += divisor;
  return new_v;
}

// A convolution named `conv` with batch norm `bn` and, when `relu` is not empty, a fused ReLU6.
Node conv_bn(GraphBuilder& g, Node x, const std::string& conv, const std::string& bn,
             const std::string& relu, int filters, int kernel, int stride, Padding padding,
             bool depthwise) {
  ConvSpec spec;
  const std::string op = depthwise ? "/depthwise" : "/Conv2D";
  spec.output = (relu.empty() ? std::string() : tf_name(relu + "/Relu6;")) +
                tf_name(bn + "/FusedBatchNormV3;") + tf_name(conv + op);
  spec.weights = tf_name(conv + op + "/ReadVariableOp");
  spec.bias = tf_name(bn + "/FusedBatchNormV3/ReadVariableOp");
  spec.filters = filters;
  spec.kernel = kernel;
  spec.stride = stride;
  spec.padding = padding;
  spec.activation = relu.empty() ? Activation::kNone : Activation::kRelu6;
  spec.bn_epsilon = 1e-3;
  return depthwise ? g.depthwise_conv2d(x, spec) : g.conv2d(x, spec);
}

// keras.applications.mobilenet_v2._inverted_res_block.
Node inverted_res_block(GraphBuilder& g, Node inputs, int expansion, int stride, int filters,
                        int block_id) {
  const int in_channels = g.shape(inputs).back();
  const int pointwise_filters = make_divisible(filters, 8);
  std::string prefix = "block_" + std::to_string(block_id) + "_";
  Node x = inputs;
  if (block_id) {
    x = conv_bn(g, x, prefix + "expand", prefix + "expand_BN", prefix + "expand_relu",
                expansion * in_channels, 1, 1, Padding::kSame, false);
  } else {
    prefix = "expanded_conv_";
  }
  if (stride == 2) {
    // imagenet_utils.correct_pad for a 3x3 kernel.
    const auto& s = g.shape(x);
    const int adjust_h = 1 - s[1] % 2, adjust_w = 1 - s[2] % 2;
    x = g.pad(x, tf_name(prefix + "pad/Pad"), 1 - adjust_h, 1, 1 - adjust_w, 1);
  }
  x = conv_bn(g, x, prefix + "depthwise", prefix + "depthwise_BN", prefix + "depthwise_relu", 0, 3,
              stride, stride == 1 ? Padding::kSame : Padding::kValid, true);
  x = conv_bn(g, x, prefix + "project", prefix + "project_BN", "", pointwise_filters, 1, 1,
              Padding::kSame, false);
  if (in_channels == pointwise_filters && stride == 1) {
    return g.add(inputs, x, tf_name(prefix + "add/add"));
  }
  return x;
}

}  // namespace

std::string build_mobilenet_v2(GraphBuilder& g) {
  Node x = g.input("input_1", {1, 224, 224, 3});
  x = conv_bn(g, x, "Conv1", "bn_Conv1", "Conv1_relu", 32, 3, 2, Padding::kSame, false);
  struct Block {
    int filters, stride, expansion;
  };
  const Block blocks[] = {{16, 1, 1}, {24, 2, 6},  {24, 1, 6},  {32, 2, 6},  {32, 1, 6}, {32, 1, 6},
                          {64, 2, 6}, {64, 1, 6},  {64, 1, 6},  {64, 1, 6},  {96, 1, 6}, {96, 1, 6},
                          {96, 1, 6}, {160, 2, 6}, {160, 1, 6}, {160, 1, 6}, {320, 1, 6}};
  int id = 0;
  for (const Block& b : blocks)
    x = inverted_res_block(g, x, b.expansion, b.stride, b.filters, id++);
  x = conv_bn(g, x, "Conv_1", "Conv_1_bn", "out_relu", 1280, 1, 1, Padding::kSame, false);
  x = g.avg_pool_global(x, tf_name("global_average_pooling2d/Mean"));
  keras_predictions(g, x);
  return "MobileNetV2 alpha 1.0 (Keras layout), 17 inverted residual blocks, ReLU6, "
         "224x224x3 -> 1000 classes";
}

}  // namespace pipecut::zoo
