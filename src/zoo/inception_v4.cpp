// Inception v4 (Szegedy et al. 2016) in TF-slim's layout and scope names, as Coral's
// inception_v4_299_quant was converted from: the stem (Conv2d_1a..Mixed_5a), 4 Inception-A
// blocks (Mixed_5b..5e), Reduction-A (Mixed_6a), 7 Inception-B (Mixed_6b..6h), Reduction-B
// (Mixed_7a), 3 Inception-C (Mixed_7b..7d), an 8x8 average pool and the 1001-class logits.
// Every convolution is batch-normalized (folded) and followed by ReLU.
#include <string>
#include <vector>

#include "zoo/models.h"

namespace pipecut::zoo {

namespace {

constexpr const char* kRoot = "InceptionV4/InceptionV4/";

// One slim conv2d: `height` x `width` kernel (slim writes [1, 7] for 1 high, 7 wide).
Node conv(GraphBuilder& g, Node x, const std::string& scope, int filters, int height, int width,
          int stride = 1, Padding padding = Padding::kSame) {
  const std::string name = kRoot + scope;
  ConvSpec spec;
  spec.output = name + "/Relu";
  spec.weights = name + "/weights";
  spec.bias = name + "/BatchNorm/FusedBatchNorm";
  spec.filters = filters;
  spec.kernel = height;
  spec.kernel_width = width;
  spec.stride = stride;
  spec.padding = padding;
  spec.activation = Activation::kRelu;
  return g.conv2d(x, spec);
}

Node concat(GraphBuilder& g, const std::string& block, const std::vector<Node>& branches) {
  return g.concat(branches, kRoot + block + "/concat");
}

Node max_pool_3x3_s2(GraphBuilder& g, Node x, const std::string& scope) {
  return g.max_pool(x, kRoot + scope + "/MaxPool", 3, 2, Padding::kValid);
}

Node avg_pool_3x3(GraphBuilder& g, Node x, const std::string& scope) {
  return g.avg_pool(x, kRoot + scope + "/AvgPool", 3, 1, Padding::kSame);
}

Node stem(GraphBuilder& g, Node x) {
  x = conv(g, x, "Conv2d_1a_3x3", 32, 3, 3, 2, Padding::kValid);  // 149
  x = conv(g, x, "Conv2d_2a_3x3", 32, 3, 3, 1, Padding::kValid);  // 147
  x = conv(g, x, "Conv2d_2b_3x3", 64, 3, 3);
  x = concat(g, "Mixed_3a",
             {max_pool_3x3_s2(g, x, "Mixed_3a/Branch_0/MaxPool_0a_3x3"),
              conv(g, x, "Mixed_3a/Branch_1/Conv2d_0a_3x3", 96, 3, 3, 2, Padding::kValid)});  // 73
  Node a = conv(g, x, "Mixed_4a/Branch_0/Conv2d_0a_1x1", 64, 1, 1);
  a = conv(g, a, "Mixed_4a/Branch_0/Conv2d_1a_3x3", 96, 3, 3, 1, Padding::kValid);
  Node b = conv(g, x, "Mixed_4a/Branch_1/Conv2d_0a_1x1", 64, 1, 1);
  b = conv(g, b, "Mixed_4a/Branch_1/Conv2d_0b_1x7", 64, 1, 7);
  b = conv(g, b, "Mixed_4a/Branch_1/Conv2d_0c_7x1", 64, 7, 1);
  b = conv(g, b, "Mixed_4a/Branch_1/Conv2d_1a_3x3", 96, 3, 3, 1, Padding::kValid);
  x = concat(g, "Mixed_4a", {a, b});  // 71
  return concat(g, "Mixed_5a",
                {conv(g, x, "Mixed_5a/Branch_0/Conv2d_1a_3x3", 192, 3, 3, 2, Padding::kValid),
                 max_pool_3x3_s2(g, x, "Mixed_5a/Branch_1/MaxPool_1a_3x3")});  // 35
}

Node inception_a(GraphBuilder& g, Node x, const std::string& block) {
  const Node b0 = conv(g, x, block + "/Branch_0/Conv2d_0a_1x1", 96, 1, 1);
  Node b1 = conv(g, x, block + "/Branch_1/Conv2d_0a_1x1", 64, 1, 1);
  b1 = conv(g, b1, block + "/Branch_1/Conv2d_0b_3x3", 96, 3, 3);
  Node b2 = conv(g, x, block + "/Branch_2/Conv2d_0a_1x1", 64, 1, 1);
  b2 = conv(g, b2, block + "/Branch_2/Conv2d_0b_3x3", 96, 3, 3);
  b2 = conv(g, b2, block + "/Branch_2/Conv2d_0c_3x3", 96, 3, 3);
  Node b3 = avg_pool_3x3(g, x, block + "/Branch_3/AvgPool_0a_3x3");
  b3 = conv(g, b3, block + "/Branch_3/Conv2d_0b_1x1", 96, 1, 1);
  return concat(g, block, {b0, b1, b2, b3});
}

Node reduction_a(GraphBuilder& g, Node x) {
  const std::string block = "Mixed_6a";
  const Node b0 = conv(g, x, block + "/Branch_0/Conv2d_1a_3x3", 384, 3, 3, 2, Padding::kValid);
  Node b1 = conv(g, x, block + "/Branch_1/Conv2d_0a_1x1", 192, 1, 1);
  b1 = conv(g, b1, block + "/Branch_1/Conv2d_0b_3x3", 224, 3, 3);
  b1 = conv(g, b1, block + "/Branch_1/Conv2d_1a_3x3", 256, 3, 3, 2, Padding::kValid);
  const Node b2 = max_pool_3x3_s2(g, x, block + "/Branch_2/MaxPool_1a_3x3");
  return concat(g, block, {b0, b1, b2});  // 17x17x1024
}

Node inception_b(GraphBuilder& g, Node x, const std::string& block) {
  const Node b0 = conv(g, x, block + "/Branch_0/Conv2d_0a_1x1", 384, 1, 1);
  Node b1 = conv(g, x, block + "/Branch_1/Conv2d_0a_1x1", 192, 1, 1);
  b1 = conv(g, b1, block + "/Branch_1/Conv2d_0b_1x7", 224, 1, 7);
  b1 = conv(g, b1, block + "/Branch_1/Conv2d_0c_7x1", 256, 7, 1);
  Node b2 = conv(g, x, block + "/Branch_2/Conv2d_0a_1x1", 192, 1, 1);
  b2 = conv(g, b2, block + "/Branch_2/Conv2d_0b_7x1", 192, 7, 1);
  b2 = conv(g, b2, block + "/Branch_2/Conv2d_0c_1x7", 224, 1, 7);
  b2 = conv(g, b2, block + "/Branch_2/Conv2d_0d_7x1", 224, 7, 1);
  b2 = conv(g, b2, block + "/Branch_2/Conv2d_0e_1x7", 256, 1, 7);
  Node b3 = avg_pool_3x3(g, x, block + "/Branch_3/AvgPool_0a_3x3");
  b3 = conv(g, b3, block + "/Branch_3/Conv2d_0b_1x1", 128, 1, 1);
  return concat(g, block, {b0, b1, b2, b3});
}

Node reduction_b(GraphBuilder& g, Node x) {
  const std::string block = "Mixed_7a";
  Node b0 = conv(g, x, block + "/Branch_0/Conv2d_0a_1x1", 192, 1, 1);
  b0 = conv(g, b0, block + "/Branch_0/Conv2d_1a_3x3", 192, 3, 3, 2, Padding::kValid);
  Node b1 = conv(g, x, block + "/Branch_1/Conv2d_0a_1x1", 256, 1, 1);
  b1 = conv(g, b1, block + "/Branch_1/Conv2d_0b_1x7", 256, 1, 7);
  b1 = conv(g, b1, block + "/Branch_1/Conv2d_0c_7x1", 320, 7, 1);
  b1 = conv(g, b1, block + "/Branch_1/Conv2d_1a_3x3", 320, 3, 3, 2, Padding::kValid);
  const Node b2 = max_pool_3x3_s2(g, x, block + "/Branch_2/MaxPool_1a_3x3");
  return concat(g, block, {b0, b1, b2});  // 8x8x1536
}

Node inception_c(GraphBuilder& g, Node x, const std::string& block) {
  const Node b0 = conv(g, x, block + "/Branch_0/Conv2d_0a_1x1", 256, 1, 1);
  const Node b1 = conv(g, x, block + "/Branch_1/Conv2d_0a_1x1", 384, 1, 1);
  const Node b1a = conv(g, b1, block + "/Branch_1/Conv2d_0b_1x3", 256, 1, 3);
  const Node b1b = conv(g, b1, block + "/Branch_1/Conv2d_0c_3x1", 256, 3, 1);
  Node b2 = conv(g, x, block + "/Branch_2/Conv2d_0a_1x1", 384, 1, 1);
  b2 = conv(g, b2, block + "/Branch_2/Conv2d_0b_3x1", 448, 3, 1);
  b2 = conv(g, b2, block + "/Branch_2/Conv2d_0c_1x3", 512, 1, 3);
  const Node b2a = conv(g, b2, block + "/Branch_2/Conv2d_0d_1x3", 256, 1, 3);
  const Node b2b = conv(g, b2, block + "/Branch_2/Conv2d_0e_3x1", 256, 3, 1);
  Node b3 = avg_pool_3x3(g, x, block + "/Branch_3/AvgPool_0a_3x3");
  b3 = conv(g, b3, block + "/Branch_3/Conv2d_0b_1x1", 256, 1, 1);
  // As slim: each split branch is concatenated inside its branch, then the four branches.
  return concat(g, block,
                {b0, concat(g, block + "/Branch_1", {b1a, b1b}),
                 concat(g, block + "/Branch_2", {b2a, b2b}), b3});
}

}  // namespace

std::string build_inception_v4(GraphBuilder& g) {
  Node x = g.input("input", {1, 299, 299, 3});
  x = stem(g, x);
  for (const char* block : {"Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_5e"})
    x = inception_a(g, x, block);
  x = reduction_a(g, x);
  for (const char* block :
       {"Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_6f", "Mixed_6g", "Mixed_6h"})
    x = inception_b(g, x, block);
  x = reduction_b(g, x);
  for (const char* block : {"Mixed_7b", "Mixed_7c", "Mixed_7d"}) x = inception_c(g, x, block);
  x = g.avg_pool(x, "InceptionV4/Logits/AvgPool_1a/AvgPool", 8, 1, Padding::kValid);
  x = g.reshape(x, "InceptionV4/Logits/PreLogitsFlatten/flatten/Reshape", {1, 1536});
  DenseSpec logits;
  logits.output = "InceptionV4/Logits/Logits/BiasAdd";
  logits.weights = "InceptionV4/Logits/Logits/weights";
  logits.bias = "InceptionV4/Logits/Logits/biases";
  logits.units = 1001;
  x = g.dense(x, logits);
  g.set_output(g.softmax(x, "InceptionV4/Logits/Predictions"), "predictions");
  return "Inception v4 (TF-slim layout), stem + 4 A + reduction A + 7 B + reduction B + 3 C, "
         "299x299x3 -> 1001 classes";
}

}  // namespace pipecut::zoo
