// The CIFAR-10 family that quantization studies compare (32x32x3 in, 10 classes out) as layer
// tables, in the layouts of the widely used PyTorch CIFAR collections (kuangliu/pytorch-cifar,
// bearpaw/pytorch-classification), every convolution padded SAME.
#include "zoo/models.h"

namespace pipecut::zoo {

namespace {

// kuangliu's VGG for CIFAR: 3x3 convs with batch norm and ReLU, 2x2 pools, one dense layer.
LayerTable cifar_vgg(const std::vector<int>& convs_per_block, const std::string& summary) {
  LayerTable t;
  t.summary = summary;
  t.rows.push_back("input 32x32x3");
  const int filters[] = {64, 128, 256, 512, 512};
  for (size_t b = 0; b < convs_per_block.size(); ++b) {
    for (int c = 0; c < convs_per_block[b]; ++c)
      t.rows.push_back("conv " + std::to_string(filters[b]) + " 3x3 bn relu");
    t.rows.push_back("maxpool 2");
  }
  for (const char* row : {"flatten", "dense 10", "softmax"}) t.rows.push_back(row);
  return t;
}

const BlockTable kBasic{
    "basic", {{"conv $1 3x3 s$2 bn relu", "conv $1 3x3 bn"}, {"shortcut $1 s$2"}}, "add relu", 2};
const BlockTable kBottleneck{
    "bottleneck",
    {{"conv $1 1x1 bn relu", "conv $1 3x3 s$2 bn relu", "conv $1*4 1x1 bn"}, {"shortcut $1*4 s$2"}},
    "add relu",
    2};

// kuangliu's ResNet for CIFAR: a 3x3 stem without pooling, four stages, global pool, dense 10.
LayerTable cifar_resnet(const BlockTable& block, const std::vector<int>& blocks,
                        const std::string& summary) {
  LayerTable t;
  t.summary = summary;
  t.blocks = {block};
  t.rows = {"input 32x32x3", "conv 64 3x3 bn relu"};
  const int filters[] = {64, 128, 256, 512};
  for (size_t s = 0; s < blocks.size(); ++s)
    t.rows.push_back(block.name + " " + std::to_string(filters[s]) + (s == 0 ? " s1" : " s2") +
                     " x" + std::to_string(blocks[s]));
  for (const char* row : {"gap", "dense 10", "softmax"}) t.rows.push_back(row);
  return t;
}

// bearpaw's AlexNet for CIFAR: five convolutions, three 2x2 pools, one dense layer.
LayerTable cifar_alexnet(bool batch_norm) {
  const std::string bn = batch_norm ? " bn" : "";
  LayerTable t;
  t.summary = std::string("AlexNet for CIFAR-10 (bearpaw's layout") +
              (batch_norm ? ", batch norm after every conv" : "") + "), 32x32x3 -> 10";
  t.rows = {"input 32x32x3",
            "conv 64 11x11 s4" + bn + " relu",
            "maxpool 2",
            "conv 192 5x5" + bn + " relu",
            "maxpool 2",
            "conv 384 3x3" + bn + " relu",
            "conv 256 3x3" + bn + " relu",
            "conv 256 3x3" + bn + " relu",
            "maxpool 2",
            "flatten",
            "dense 10",
            "softmax"};
  return t;
}

}  // namespace

LayerTable cifar_table(const std::string& name) {
  if (name == "alexnet") return cifar_alexnet(false);
  if (name == "alexnet_bn") return cifar_alexnet(true);
  if (name == "vgg16_cifar")
    return cifar_vgg({2, 2, 3, 3, 3}, "VGG16 for CIFAR-10 (kuangliu's, batch norm), 32x32x3 -> 10");
  if (name == "vgg19_cifar")
    return cifar_vgg({2, 2, 4, 4, 4}, "VGG19 for CIFAR-10 (kuangliu's, batch norm), 32x32x3 -> 10");
  if (name == "resnet18_cifar")
    return cifar_resnet(kBasic, {2, 2, 2, 2},
                        "ResNet-18 for CIFAR-10 (kuangliu's: 3x3 stem, basic blocks 2-2-2-2), "
                        "32x32x3 -> 10");
  if (name == "resnet50_cifar")
    return cifar_resnet(kBottleneck, {3, 4, 6, 3},
                        "ResNet-50 for CIFAR-10 (kuangliu's: 3x3 stem, bottlenecks 3-4-6-3), "
                        "32x32x3 -> 10");
  if (name == "resnet152_cifar")
    return cifar_resnet(kBottleneck, {3, 8, 36, 3},
                        "ResNet-152 for CIFAR-10 (kuangliu's: 3x3 stem, bottlenecks 3-8-36-3), "
                        "32x32x3 -> 10");
  if (name == "mobilenet_v2_cifar") {
    LayerTable t;
    t.summary =
        "MobileNetV2 for CIFAR-10 (kuangliu's: stride-1 stem and second stage, ReLU), 32x32x3 -> "
        "10";
    // $1 expansion, $2 output channels, $3 stride; the input is added back only at stride 1.
    t.blocks = {BlockTable{"inverted",
                           {{"conv $in*$1 1x1 bn relu", "dwconv 3x3 s$3 bn relu", "conv $2 1x1 bn"},
                            {"shortcut $2 s1"}},
                           "add",
                           3,
                           BlockTable::Shortcut::kNoneWhenStrided}};
    t.rows = {"input 32x32x3",
              "conv 32 3x3 bn relu",
              "inverted 1 16 s1",
              "inverted 6 24 s1 x2",
              "inverted 6 32 s2 x3",
              "inverted 6 64 s2 x4",
              "inverted 6 96 s1 x3",
              "inverted 6 160 s2 x3",
              "inverted 6 320 s1",
              "conv 1280 1x1 bn relu",
              "gap",
              "dense 10",
              "softmax"};
    return t;
  }
  if (name == "inception_bn") {
    LayerTable t;
    t.summary =
        "GoogLeNet with batch norm for CIFAR-10 (kuangliu's: 9 inception modules), 32x32x3 -> 10";
    // $1 1x1; $2 -> $3 3x3; $4 -> $5 3x3 -> $5 3x3 (the 5x5 as two 3x3); 3x3 max pool -> $6 1x1.
    t.blocks = {BlockTable{"inception",
                           {{"conv $1 1x1 bn relu"},
                            {"conv $2 1x1 bn relu", "conv $3 3x3 bn relu"},
                            {"conv $4 1x1 bn relu", "conv $5 3x3 bn relu", "conv $5 3x3 bn relu"},
                            {"maxpool 3 s1 same", "conv $6 1x1 bn relu"}},
                           "concat"}};
    t.rows = {"input 32x32x3",
              "conv 192 3x3 bn relu",
              "inception 64 96 128 16 32 32",
              "inception 128 128 192 32 96 64",
              "maxpool 3 s2 same",
              "inception 192 96 208 16 48 64",
              "inception 160 112 224 24 64 64",
              "inception 128 128 256 24 64 64",
              "inception 112 144 288 32 64 64",
              "inception 256 160 320 32 128 128",
              "maxpool 3 s2 same",
              "inception 256 160 320 32 128 128",
              "inception 384 192 384 48 128 128",
              "gap",
              "dense 10",
              "softmax"};
    return t;
  }
  return {};
}

}  // namespace pipecut::zoo
