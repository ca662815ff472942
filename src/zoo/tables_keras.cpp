// The Keras architectures as layer tables (layer_table.h), with the tensor names the TF converter
// writes for keras.applications models: ResNet v1 (18..152), VGG16/19, MobileNetV2, InceptionV3.
#include "zoo/models.h"

namespace pipecut::zoo {

// Keras VGG: blockN_convM (3x3 SAME, bias, ReLU), blockN_pool (2x2/2), flatten, fc1, fc2.
LayerTable keras_vgg(const std::vector<int>& convs_per_block, const std::string& summary) {
  LayerTable t;
  t.summary = summary;
  t.rows.push_back("input 224x224x3");
  const int filters[] = {64, 128, 256, 512, 512};
  for (size_t b = 0; b < convs_per_block.size(); ++b) {
    const std::string block = "block" + std::to_string(b + 1);
    for (int c = 1; c <= convs_per_block[b]; ++c)
      t.rows.push_back("conv " + std::to_string(filters[b]) + " 3x3 relu name=" + block + "_conv" +
                       std::to_string(c));
    t.rows.push_back("maxpool 2 name=" + block + "_pool");
  }
  for (const char* row : {"flatten name=flatten", "dense 4096 relu name=fc1", "dropout",
                          "dense 4096 relu name=fc2", "dropout", "dense 1000", "softmax"})
    t.rows.push_back(row);
  return t;
}

// keras.applications.resnet v1 (ResNet-18/34 are not in Keras: the same naming, basic blocks).
// Stem: conv1_pad (3), conv1 7x7/2 valid, pool1_pad (1), pool1_pool 3x3/2; stages conv2..conv5
// of blocks convN_blockM; the stride sits on the block's first conv; a 1x1 projection _0 where the
// shape changes (Keras' block1); every block ends in _add and the ReLU _out.
LayerTable keras_resnet(int depth) {
  const bool bottleneck = depth >= 50;
  const std::vector<int> blocks = depth == 18    ? std::vector<int>{2, 2, 2, 2}
                                  : depth == 34  ? std::vector<int>{3, 4, 6, 3}
                                  : depth == 50  ? std::vector<int>{3, 4, 6, 3}
                                  : depth == 101 ? std::vector<int>{3, 4, 23, 3}
                                                 : std::vector<int>{3, 8, 36, 3};
  const std::string e = " eps=1.001e-5";  // keras.applications.resnet's batch norm epsilon
  LayerTable t;
  std::string layout;
  for (size_t i = 0; i < blocks.size(); ++i) layout += (i ? "-" : "") + std::to_string(blocks[i]);
  t.summary = "ResNet-" + std::to_string(depth) + " v1 (Keras layout), " +
              (bottleneck ? "bottleneck" : "basic") + " blocks " + layout +
              ", 224x224x3 -> 1000 classes";
  // $1 filters, $2 stride. The shortcut comes first, as Keras builds it.
  t.blocks = {bottleneck ? BlockTable{"bottleneck",
                                      {{"shortcut $1*4 s$2 valid keras=$name_0" + e},
                                       {"conv $1 1x1 s$2 valid bn relu keras=$name_1" + e,
                                        "conv $1 3x3 bn relu keras=$name_2" + e,
                                        "conv $1*4 1x1 valid bn keras=$name_3" + e}},
                                      "add relu",
                                      2}
                         : BlockTable{"basic",
                                      {{"shortcut $1 s$2 valid keras=$name_0" + e},
                                       {"conv $1 3x3 s$2 bn relu keras=$name_1" + e,
                                        "conv $1 3x3 bn keras=$name_2" + e}},
                                      "add relu",
                                      2}};
  t.rows = {"input 224x224x3", "pad 3 name=conv1_pad",
            "conv 64 7x7 s2 valid bn relu keras=conv1" + e, "pad 1 name=pool1_pad",
            "maxpool 3 s2 name=pool1_pool"};
  const int filters[] = {64, 128, 256, 512};
  for (size_t s = 0; s < blocks.size(); ++s)
    t.rows.push_back(t.blocks[0].name + " " + std::to_string(filters[s]) +
                     (s == 0 ? " s1" : " s2") + " x" + std::to_string(blocks[s]) + " name=conv" +
                     std::to_string(s + 2) + "_block%");
  for (const char* row : {"gap name=avg_pool", "dense 1000", "softmax"}) t.rows.push_back(row);
  return t;
}

// keras.applications.mobilenet_v2, alpha 1.0: every conv without a bias, with batch norm (its
// bias is the batch norm's) and ReLU6, each layer named as Keras names it.
LayerTable keras_mobilenet_v2() {
  // One inverted residual block: $1 expansion, $2 output channels. The first has no expansion;
  // a stride-2 one pads as correct_pad and convolves VALID; a stride-1 one adds its input back
  // when the channels stay.
  const std::string dw =
      "dwconv 3x3 relu6 conv=$name_depthwise bn=$name_depthwise_BN "
      "act=$name_depthwise_relu";
  const std::string expand =
      "conv $in*$1 1x1 relu6 conv=$name_expand bn=$name_expand_BN act=$name_expand_relu";
  const std::string project = "conv $2 1x1 conv=$name_project bn=$name_project_BN";
  LayerTable t;
  t.summary =
      "MobileNetV2 alpha 1.0 (Keras layout), 17 inverted residual blocks, ReLU6, "
      "224x224x3 -> 1000 classes";
  BlockTable first{"inverted_first", {{dw, project}}, "add"};
  BlockTable stride1{"inverted", {{"shortcut $2"}, {expand, dw, project}}, "add"};
  stride1.shortcut = BlockTable::Shortcut::kIdentityOnly;
  BlockTable stride2{
      "inverted_s2", {{expand, "pad correct name=$name_pad", dw + " s2 valid", project}}, "add"};
  t.blocks = {first, stride1, stride2};
  t.rows = {"input 224x224x3", "conv 32 3x3 s2 relu6 conv=Conv1 bn=bn_Conv1 act=Conv1_relu",
            "inverted_first 1 16 name=expanded_conv"};
  // (stride, channels) of block_1 .. block_16; expansion 6.
  const std::pair<int, int> blocks[] = {{2, 24},  {1, 24},  {2, 32},  {1, 32}, {1, 32}, {2, 64},
                                        {1, 64},  {1, 64},  {1, 64},  {1, 96}, {1, 96}, {1, 96},
                                        {2, 160}, {1, 160}, {1, 160}, {1, 320}};
  int id = 0;
  for (const auto& [stride, channels] : blocks)
    t.rows.push_back(std::string(stride == 2 ? "inverted_s2" : "inverted") + " 6 " +
                     std::to_string(channels) + " name=block_" + std::to_string(++id));
  for (const char* row : {"conv 1280 1x1 relu6 conv=Conv_1 bn=Conv_1_bn act=out_relu",
                          "gap name=global_average_pooling2d", "dense 1000", "softmax"})
    t.rows.push_back(row);
  return t;
}

// keras.applications.inception_v3: every conv is conv2d_bn (no bias, batch norm, ReLU); the
// blocks' outputs are mixed0 .. mixed10 as Keras names them.
LayerTable keras_inception_v3() {
  LayerTable t;
  t.summary = "Inception v3 (Keras layout, mixed0..mixed10), 299x299x3 -> 1000 classes";
  const std::string c = " bn relu";
  t.blocks = {BlockTable{"inception_a",  // 35x35: 1x1, 5x5, double 3x3, pool ($1 filters)
                         {{"conv 64 1x1" + c},
                          {"conv 48 1x1" + c, "conv 64 5x5" + c},
                          {"conv 64 1x1" + c, "conv 96 3x3" + c, "conv 96 3x3" + c},
                          {"avgpool 3 s1 same", "conv $1 1x1" + c}},
                         "concat"},
              BlockTable{"reduction_a",  // 35 -> 17
                         {{"conv 384 3x3 s2 valid" + c},
                          {"conv 64 1x1" + c, "conv 96 3x3" + c, "conv 96 3x3 s2 valid" + c},
                          {"maxpool 3 s2"}},
                         "concat"},
              BlockTable{"inception_c",  // 17x17 with 1x7 / 7x1 factorized convs ($1 inner filters)
                         {{"conv 192 1x1" + c},
                          {"conv $1 1x1" + c, "conv $1 1x7" + c, "conv 192 7x1" + c},
                          {"conv $1 1x1" + c, "conv $1 7x1" + c, "conv $1 1x7" + c,
                           "conv $1 7x1" + c, "conv 192 1x7" + c},
                          {"avgpool 3 s1 same", "conv 192 1x1" + c}},
                         "concat"},
              BlockTable{"reduction_b",  // 17 -> 8
                         {{"conv 192 1x1" + c, "conv 320 3x3 s2 valid" + c},
                          {"conv 192 1x1" + c, "conv 192 1x7" + c, "conv 192 7x1" + c,
                           "conv 192 3x3 s2 valid" + c},
                          {"maxpool 3 s2"}},
                         "concat"},
              BlockTable{"split_1x3_3x1", {{"conv $1 1x3" + c}, {"conv $1 3x1" + c}}, "concat"},
              BlockTable{"inception_e",  // 8x8, the 3x3s split into 1x3 and 3x1
                         {{"conv 320 1x1" + c},
                          {"conv 384 1x1" + c, "split_1x3_3x1 384"},
                          {"conv 448 1x1" + c, "conv 384 3x3" + c, "split_1x3_3x1 384"},
                          {"avgpool 3 s1 same", "conv 192 1x1" + c}},
                         "concat"}};
  t.rows = {"input 299x299x3",
            "conv 32 3x3 s2 valid" + c,
            "conv 32 3x3 valid" + c,
            "conv 64 3x3" + c,
            "maxpool 3 s2",
            "conv 80 1x1 valid" + c,
            "conv 192 3x3 valid" + c,
            "maxpool 3 s2",
            "inception_a 32 name=mixed0",
            "inception_a 64 name=mixed1",
            "inception_a 64 name=mixed2",
            "reduction_a name=mixed3",
            "inception_c 128 name=mixed4",
            "inception_c 160 name=mixed5",
            "inception_c 160 name=mixed6",
            "inception_c 192 name=mixed7",
            "reduction_b name=mixed8",
            "inception_e name=mixed9",
            "inception_e name=mixed10",
            "gap",
            "dense 1000",
            "softmax"};
  return t;
}

}  // namespace pipecut::zoo
