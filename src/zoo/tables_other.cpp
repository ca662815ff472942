// Two layer tables not from Keras: the zoo's small U-Net and TF-slim's Inception v4.
#include "zoo/models.h"

namespace pipecut::zoo {

// The small U-Net: each level a block whose branches are its input (the long skip connection)
// and the path down through the levels below and back up, concatenated. Layer names as the
// graph code gave them: downN_conv1/2, downN_pool, bottleneck_conv1/2, upN_upsample, upN_upconv,
// upN_concat, upN_conv1/2, logits, softmax; a conv `c` has its batch norm `c_bn` and ReLU `c_relu`.
LayerTable small_unet() {
  const int filters[] = {16, 32, 64, 128};
  const auto conv = [](const std::string& name, int f) {
    return "conv " + std::to_string(f) + " 3x3 relu conv=" + name + " bn=" + name +
           "_bn act=" + name + "_relu bias=" + name + "/BiasAdd/ReadVariableOp";
  };
  LayerTable t;
  t.summary =
      "U-Net, 4 levels of 16/32/64/128 filters + 256 bottleneck, nearest upsampling, "
      "128x128x3 -> 128x128x4 class softmax";
  t.output_name = "softmax";
  for (int level = 1; level <= 4; ++level) {
    const std::string l = std::to_string(level), below = std::to_string(level + 1);
    std::vector<std::string> path{"maxpool 2 name=down" + l + "_pool"};
    if (level < 4) {
      path.push_back(conv("down" + below + "_conv1", filters[level]));
      path.push_back(conv("down" + below + "_conv2", filters[level]));
      path.push_back("level" + below + " name=up" + below + "_concat");
      path.push_back(conv("up" + below + "_conv1", filters[level]));
      path.push_back(conv("up" + below + "_conv2", filters[level]));
    } else {
      path.push_back(conv("bottleneck_conv1", 256));
      path.push_back(conv("bottleneck_conv2", 256));
    }
    path.push_back("upsample 2 name=up" + l + "_upsample/resize");
    path.push_back(conv("up" + l + "_upconv", filters[level - 1]));
    t.blocks.push_back(BlockTable{"level" + l, {{"shortcut $in"}, path}, "concat"});
  }
  t.rows = {"input 128x128x3",
            conv("down1_conv1", 16),
            conv("down1_conv2", 16),
            "level1 name=up1_concat",
            conv("up1_conv1", 16),
            conv("up1_conv2", 16),
            "conv 4 1x1 valid name=logits",
            "softmax name=softmax"};
  return t;
}

// Inception v4 in TF-slim's layout and scope names (InceptionV4/InceptionV4/Mixed_6b/Branch_1/
// Conv2d_0b_1x7/...), the graph Coral's inception_v4_299_quant comes from: the stem, 4
// Inception-A, Reduction-A, 7 Inception-B, Reduction-B, 3 Inception-C blocks, an 8x8 average
// pool and the 1001-class logits. Every conv is slim's conv2d: batch norm (folded) and ReLU.
LayerTable slim_inception_v4() {
  const auto conv = [](int filters, const std::string& kernel, const std::string& scope,
                       const std::string& extra = "") {
    return "conv " + std::to_string(filters) + " " + kernel + extra + " bn relu slim=$name/" +
           scope;
  };
  const std::string v = " s2 valid";
  LayerTable t;
  t.summary =
      "Inception v4 (TF-slim layout), stem + 4 A + reduction A + 7 B + reduction B + 3 C, "
      "299x299x3 -> 1001 classes";
  t.input_name = "input";
  t.prefix = "InceptionV4/";
  t.blocks = {
      BlockTable{"mixed_3a",
                 {{"maxpool 3 s2 name=$name/Branch_0/MaxPool_0a_3x3"},
                  {conv(96, "3x3", "Branch_1/Conv2d_0a_3x3", v)}},
                 "concat"},
      BlockTable{
          "mixed_4a",
          {{conv(64, "1x1", "Branch_0/Conv2d_0a_1x1"),
            conv(96, "3x3", "Branch_0/Conv2d_1a_3x3", " valid")},
           {conv(64, "1x1", "Branch_1/Conv2d_0a_1x1"), conv(64, "1x7", "Branch_1/Conv2d_0b_1x7"),
            conv(64, "7x1", "Branch_1/Conv2d_0c_7x1"),
            conv(96, "3x3", "Branch_1/Conv2d_1a_3x3", " valid")}},
          "concat"},
      BlockTable{"mixed_5a",
                 {{conv(192, "3x3", "Branch_0/Conv2d_1a_3x3", v)},
                  {"maxpool 3 s2 name=$name/Branch_1/MaxPool_1a_3x3"}},
                 "concat"},
      BlockTable{
          "inception_a",
          {{conv(96, "1x1", "Branch_0/Conv2d_0a_1x1")},
           {conv(64, "1x1", "Branch_1/Conv2d_0a_1x1"), conv(96, "3x3", "Branch_1/Conv2d_0b_3x3")},
           {conv(64, "1x1", "Branch_2/Conv2d_0a_1x1"), conv(96, "3x3", "Branch_2/Conv2d_0b_3x3"),
            conv(96, "3x3", "Branch_2/Conv2d_0c_3x3")},
           {"avgpool 3 s1 same name=$name/Branch_3/AvgPool_0a_3x3",
            conv(96, "1x1", "Branch_3/Conv2d_0b_1x1")}},
          "concat"},
      BlockTable{
          "reduction_a",
          {{conv(384, "3x3", "Branch_0/Conv2d_1a_3x3", v)},
           {conv(192, "1x1", "Branch_1/Conv2d_0a_1x1"), conv(224, "3x3", "Branch_1/Conv2d_0b_3x3"),
            conv(256, "3x3", "Branch_1/Conv2d_1a_3x3", v)},
           {"maxpool 3 s2 name=$name/Branch_2/MaxPool_1a_3x3"}},
          "concat"},
      BlockTable{
          "inception_b",
          {{conv(384, "1x1", "Branch_0/Conv2d_0a_1x1")},
           {conv(192, "1x1", "Branch_1/Conv2d_0a_1x1"), conv(224, "1x7", "Branch_1/Conv2d_0b_1x7"),
            conv(256, "7x1", "Branch_1/Conv2d_0c_7x1")},
           {conv(192, "1x1", "Branch_2/Conv2d_0a_1x1"), conv(192, "7x1", "Branch_2/Conv2d_0b_7x1"),
            conv(224, "1x7", "Branch_2/Conv2d_0c_1x7"), conv(224, "7x1", "Branch_2/Conv2d_0d_7x1"),
            conv(256, "1x7", "Branch_2/Conv2d_0e_1x7")},
           {"avgpool 3 s1 same name=$name/Branch_3/AvgPool_0a_3x3",
            conv(128, "1x1", "Branch_3/Conv2d_0b_1x1")}},
          "concat"},
      BlockTable{
          "reduction_b",
          {{conv(192, "1x1", "Branch_0/Conv2d_0a_1x1"),
            conv(192, "3x3", "Branch_0/Conv2d_1a_3x3", v)},
           {conv(256, "1x1", "Branch_1/Conv2d_0a_1x1"), conv(256, "1x7", "Branch_1/Conv2d_0b_1x7"),
            conv(320, "7x1", "Branch_1/Conv2d_0c_7x1"),
            conv(320, "3x3", "Branch_1/Conv2d_1a_3x3", v)},
           {"maxpool 3 s2 name=$name/Branch_2/MaxPool_1a_3x3"}},
          "concat"},
      // Inception-C's split branches, each concatenated inside its branch as slim does.
      BlockTable{"split_1",
                 {{conv(256, "1x3", "Conv2d_0b_1x3")}, {conv(256, "3x1", "Conv2d_0c_3x1")}},
                 "concat"},
      BlockTable{"split_2",
                 {{conv(256, "1x3", "Conv2d_0d_1x3")}, {conv(256, "3x1", "Conv2d_0e_3x1")}},
                 "concat"},
      BlockTable{
          "inception_c",
          {{conv(256, "1x1", "Branch_0/Conv2d_0a_1x1")},
           {conv(384, "1x1", "Branch_1/Conv2d_0a_1x1"), "split_1 name=$name/Branch_1"},
           {conv(384, "1x1", "Branch_2/Conv2d_0a_1x1"), conv(448, "3x1", "Branch_2/Conv2d_0b_3x1"),
            conv(512, "1x3", "Branch_2/Conv2d_0c_1x3"), "split_2 name=$name/Branch_2"},
           {"avgpool 3 s1 same name=$name/Branch_3/AvgPool_0a_3x3",
            conv(256, "1x1", "Branch_3/Conv2d_0b_1x1")}},
          "concat"}};
  const std::string stem = " bn relu slim=InceptionV4/";
  t.rows = {"input 299x299x3",
            "conv 32 3x3 s2 valid" + stem + "Conv2d_1a_3x3",
            "conv 32 3x3 valid" + stem + "Conv2d_2a_3x3",
            "conv 64 3x3" + stem + "Conv2d_2b_3x3",
            "mixed_3a name=InceptionV4/Mixed_3a",
            "mixed_4a name=InceptionV4/Mixed_4a",
            "mixed_5a name=InceptionV4/Mixed_5a"};
  for (const char* b : {"5b", "5c", "5d", "5e"})
    t.rows.push_back(std::string("inception_a name=InceptionV4/Mixed_") + b);
  t.rows.push_back("reduction_a name=InceptionV4/Mixed_6a");
  for (const char* b : {"6b", "6c", "6d", "6e", "6f", "6g", "6h"})
    t.rows.push_back(std::string("inception_b name=InceptionV4/Mixed_") + b);
  t.rows.push_back("reduction_b name=InceptionV4/Mixed_7a");
  for (const char* b : {"7b", "7c", "7d"})
    t.rows.push_back(std::string("inception_c name=InceptionV4/Mixed_") + b);
  for (const char* row :
       {"avgpool 8 s1 valid name=Logits/AvgPool_1a", "flatten name=Logits/PreLogitsFlatten/flatten",
        "dense 1001 slim=Logits/Logits", "softmax slim=Logits/Predictions"})
    t.rows.push_back(row);
  return t;
}

}  // namespace pipecut::zoo
