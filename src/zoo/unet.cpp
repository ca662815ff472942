// A small U-Net for segmentation: 128x128x3 input, four levels of 16/32/64/128 filters and a
// 256-filter bottleneck at 8x8. Each level: two 3x3 convs (bias + folded batch norm + ReLU);
// down path max pool 2x2; up path nearest-neighbour upsampling x2 (RESIZE_NEAREST_NEIGHBOR) and
// a 3x3 conv (upN_upconv), CONCATENATION with the long skip connection (downN_conv2), then two
// 3x3 convs. Head: 1x1 conv to 4 classes (logits) and a softmax over the channel axis.
// Layer names: downN_conv1/2, downN_pool, bottleneck_conv1/2, upN_upsample, upN_upconv,
// upN_concat, upN_conv1/2, logits, softmax; a conv `c` has its batch norm `c`_bn and ReLU `c`_relu.
#include <string>
#include <vector>

#include "zoo/models.h"

namespace pipecut::zoo {

namespace {

constexpr int kClasses = 4;

Node conv_bn_relu(GraphBuilder& g, Node x, const std::string& name, int filters) {
  ConvSpec spec;
  spec.output = tf_name(name + "_relu/Relu;") + tf_name(name + "_bn/FusedBatchNormV3;") +
                tf_name(name + "/Conv2D");
  spec.weights = tf_name(name + "/Conv2D/ReadVariableOp");
  spec.bias = tf_name(name + "/BiasAdd/ReadVariableOp");
  spec.filters = filters;
  spec.kernel = 3;
  spec.padding = Padding::kSame;
  spec.activation = Activation::kRelu;
  return g.conv2d(x, spec);
}

}  // namespace

std::string build_unet(GraphBuilder& g) {
  const int filters[] = {16, 32, 64, 128};
  Node x = g.input("input_1", {1, 128, 128, 3});
  std::vector<Node> skips;
  for (int level = 1; level <= 4; ++level) {
    const std::string name = "down" + std::to_string(level);
    x = conv_bn_relu(g, x, name + "_conv1", filters[level - 1]);
    x = conv_bn_relu(g, x, name + "_conv2", filters[level - 1]);
    skips.push_back(x);
    x = g.max_pool(x, tf_name(name + "_pool/MaxPool"), 2, 2, Padding::kValid);
  }
  x = conv_bn_relu(g, x, "bottleneck_conv1", 256);
  x = conv_bn_relu(g, x, "bottleneck_conv2", 256);
  for (int level = 4; level >= 1; --level) {
    const std::string name = "up" + std::to_string(level);
    x = g.upsample(x, tf_name(name + "_upsample/resize/ResizeNearestNeighbor"), 2);
    x = conv_bn_relu(g, x, name + "_upconv", filters[level - 1]);
    x = g.concat({skips[static_cast<size_t>(level - 1)], x}, tf_name(name + "_concat/concat"));
    x = conv_bn_relu(g, x, name + "_conv1", filters[level - 1]);
    x = conv_bn_relu(g, x, name + "_conv2", filters[level - 1]);
  }
  ConvSpec logits;
  logits.output = tf_name("logits/BiasAdd;") + tf_name("logits/Conv2D");
  logits.weights = tf_name("logits/Conv2D/ReadVariableOp");
  logits.bias = tf_name("logits/BiasAdd/ReadVariableOp");
  logits.filters = kClasses;
  logits.kernel = 1;
  logits.padding = Padding::kValid;
  logits.batch_norm = false;
  x = g.conv2d(x, logits);
  x = g.softmax(x, tf_name("softmax/Softmax"));
  g.set_output(x, "softmax");
  return "U-Net, 4 levels of 16/32/64/128 filters + 256 bottleneck, nearest upsampling, "
         "128x128x3 -> 128x128x" +
         std::to_string(kClasses) + " class softmax";
}

}  // namespace pipecut::zoo
