// VGG16 with its top, in the keras.applications layout and with the TF converter's tensor names:
// block1_conv1 .. block5_conv3 (3x3 same, bias, ReLU; no batch norm), block1_pool .. block5_pool
// (2x2/2 max), flatten (RESHAPE to [1, 25088]), fc1 and fc2 (dense 4096, ReLU), predictions
// (dense 1000 + softmax).
#include <string>

#include "zoo/models.h"

namespace pipecut::zoo {

std::string build_vgg16(GraphBuilder& g) {
  Node x = g.input("input_1", {1, 224, 224, 3});
  struct Block {
    int filters, convs;
  };
  const Block blocks[] = {{64, 2}, {128, 2}, {256, 3}, {512, 3}, {512, 3}};
  int id = 1;
  for (const Block& b : blocks) {
    const std::string block = "block" + std::to_string(id++);
    for (int c = 1; c <= b.convs; ++c) {
      const std::string name = block + "_conv" + std::to_string(c);
      ConvSpec spec;
      spec.output =
          tf_name(name + "/Relu;") + tf_name(name + "/BiasAdd;") + tf_name(name + "/Conv2D");
      spec.weights = tf_name(name + "/Conv2D/ReadVariableOp");
      spec.bias = tf_name(name + "/BiasAdd/ReadVariableOp");
      spec.filters = b.filters;
      spec.kernel = 3;
      spec.padding = Padding::kSame;
      spec.activation = Activation::kRelu;
      spec.batch_norm = false;
      x = g.conv2d(x, spec);
    }
    x = g.max_pool(x, tf_name(block + "_pool/MaxPool"), 2, 2, Padding::kValid);
  }
  const auto& s = g.shape(x);
  x = g.reshape(x, tf_name("flatten/Reshape"), {1, s[1] * s[2] * s[3]});
  x = g.dense(x, keras_dense("fc1", 4096, true));
  x = g.dense(x, keras_dense("fc2", 4096, true));
  keras_predictions(g, x);
  return "VGG16 with top (Keras layout), 13 convs + 3 dense, 224x224x3 -> 1000 classes";
}

}  // namespace pipecut::zoo
