// ResNet v1 in the keras.applications layout and with the TF converter's tensor names.
//
// Stem: conv1_pad (zero padding 3) -> conv1_conv 7x7/2 valid (+ conv1_bn, conv1_relu fused) ->
// pool1_pad (zero padding 1) -> pool1_pool 3x3/2 max. Stages conv2..conv5 (64, 128, 256, 512
// filters); stage conv2 keeps the resolution, the others halve it in block1.
//   Bottleneck block (resnet50/101/152): _1_conv 1x1 (stride here), _2_conv 3x3 same,
//   _3_conv 1x1 to 4x filters; block1 of every stage has the projection shortcut _0_conv 1x1.
//   Basic block (resnet18/34, not in keras.applications, same naming): _1_conv 3x3 (stride
//   here), _2_conv 3x3; _0_conv 1x1 projection only where the shape changes (stages 3-5).
// Every block ends in _add with the fused ReLU _out. Head: avg_pool (MEAN), predictions (dense
// 1000 + softmax).
#include <string>
#include <vector>

#include "pipecut/error.h"
#include "zoo/models.h"

namespace pipecut::zoo {

namespace {

constexpr double kResNetBnEpsilon = 1.001e-5;  // keras.applications.resnet

// One Conv2D + BatchNormalization (+ ReLU) named `base`_conv / `base`_bn / `base`_relu.
Node conv_bn(GraphBuilder& g, Node x, const std::string& base, int filters, int kernel, int stride,
             Padding padding, bool relu) {
  ConvSpec spec;
  spec.output = (relu ? tf_name(base + "_relu/Relu;") : std::string()) +
                tf_name(base + "_bn/FusedBatchNormV3;") + tf_name(base + "_conv/Conv2D");
  spec.weights = tf_name(base + "_conv/Conv2D/ReadVariableOp");
  spec.bias = tf_name(base + "_conv/BiasAdd/ReadVariableOp");
  spec.filters = filters;
  spec.kernel = kernel;
  spec.stride = stride;
  spec.padding = padding;
  spec.activation = relu ? Activation::kRelu : Activation::kNone;
  spec.bn_epsilon = kResNetBnEpsilon;
  return g.conv2d(x, spec);
}

Node block_out(GraphBuilder& g, Node shortcut, Node x, const std::string& name) {
  return g.add(shortcut, x, tf_name(name + "_out/Relu;") + tf_name(name + "_add/add"),
               Activation::kRelu);
}

// keras.applications.resnet.block1.
Node bottleneck_block(GraphBuilder& g, Node x, int filters, int stride, bool conv_shortcut,
                      const std::string& name) {
  Node shortcut = x;
  if (conv_shortcut) {
    shortcut = conv_bn(g, x, name + "_0", 4 * filters, 1, stride, Padding::kValid, false);
  }
  x = conv_bn(g, x, name + "_1", filters, 1, stride, Padding::kValid, true);
  x = conv_bn(g, x, name + "_2", filters, 3, 1, Padding::kSame, true);
  x = conv_bn(g, x, name + "_3", 4 * filters, 1, 1, Padding::kValid, false);
  return block_out(g, shortcut, x, name);
}

Node basic_block(GraphBuilder& g, Node x, int filters, int stride, const std::string& name) {
  Node shortcut = x;
  if (stride != 1 || g.shape(x).back() != filters) {
    shortcut = conv_bn(g, x, name + "_0", filters, 1, stride, Padding::kValid, false);
  }
  x = conv_bn(g, x, name + "_1", filters, 3, stride, Padding::kSame, true);
  x = conv_bn(g, x, name + "_2", filters, 3, 1, Padding::kSame, false);
  return block_out(g, shortcut, x, name);
}

}  // namespace

std::string build_resnet(GraphBuilder& g, int depth) {
  std::vector<int> blocks;
  bool bottleneck = true;
  switch (depth) {
    case 18:
      blocks = {2, 2, 2, 2};
      bottleneck = false;
      break;
    case 34:
      blocks = {3, 4, 6, 3};
      bottleneck = false;
      break;
    case 50:
      blocks = {3, 4, 6, 3};
      break;
    case 101:
      blocks = {3, 4, 23, 3};
      break;
    case 152:
      blocks = {3, 8, 36, 3};
      break;
    default:
      throw Error("zoo: no ResNet of depth " + std::to_string(depth));
  }
  Node x = g.input("input_1", {1, 224, 224, 3});
  x = g.pad(x, tf_name("conv1_pad/Pad"), 3, 3, 3, 3);
  x = conv_bn(g, x, "conv1", 64, 7, 2, Padding::kValid, true);
  x = g.pad(x, tf_name("pool1_pad/Pad"), 1, 1, 1, 1);
  x = g.max_pool(x, tf_name("pool1_pool/MaxPool"), 3, 2, Padding::kValid);
  const int filters[] = {64, 128, 256, 512};
  for (int stage = 0; stage < 4; ++stage) {
    const std::string stage_name = "conv" + std::to_string(stage + 2);
    for (int b = 1; b <= blocks[static_cast<size_t>(stage)]; ++b) {
      const std::string name = stage_name + "_block" + std::to_string(b);
      const int stride = (b == 1 && stage > 0) ? 2 : 1;
      x = bottleneck ? bottleneck_block(g, x, filters[stage], stride, b == 1, name)
                     : basic_block(g, x, filters[stage], stride, name);
    }
  }
  x = g.avg_pool_global(x, tf_name("avg_pool/Mean"));
  keras_predictions(g, x);

  std::string layout;
  for (size_t i = 0; i < blocks.size(); ++i) {
    layout += (i ? "-" : "") + std::to_string(blocks[i]);
  }
  return "ResNet-" + std::to_string(depth) + " v1 (Keras layout), " +
         (bottleneck ? "bottleneck" : "basic") + " blocks " + layout +
         ", 224x224x3 -> 1000 classes";
}

}  // namespace pipecut::zoo
