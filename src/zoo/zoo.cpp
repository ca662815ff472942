// The zoo's public entry points: the registry of names and the model description.
#include "pipecut/zoo.h"

#include "pipecut/error.h"
#include "zoo/builder.h"
#include "zoo/models.h"

namespace pipecut {

namespace {

// Every entry is built from the layer table of its name (zoo_table, tables*.cpp).
struct ZooEntry {
  const char* name;
  const char* summary;
};

const std::vector<ZooEntry>& registry() {
  static const std::vector<ZooEntry> entries = {
      {"resnet18", "ResNet-18 (basic blocks 2-2-2-2, Keras naming), 224x224x3 -> 1000, int8"},
      {"resnet34", "ResNet-34 (basic blocks 3-4-6-3, Keras naming), 224x224x3 -> 1000, int8"},
      {"resnet50", "Keras ResNet50 v1 (bottleneck blocks 3-4-6-3), 224x224x3 -> 1000, int8"},
      {"resnet101", "Keras ResNet101 v1 (bottleneck blocks 3-4-23-3), 224x224x3 -> 1000, int8"},
      {"resnet152", "Keras ResNet152 v1 (bottleneck blocks 3-8-36-3), 224x224x3 -> 1000, int8"},
      {"mobilenet_v2", "Keras MobileNetV2 alpha 1.0, ReLU6, 224x224x3 -> 1000, int8"},
      {"vgg16", "Keras VGG16 with top (13 convs, fc1/fc2 4096), 224x224x3 -> 1000, int8"},
      {"inception_v4",
       "Inception v4 (TF-slim layout: stem, 4 A, 7 B, 3 C blocks), 299x299x3 -> 1001, int8"},
      {"vgg19", "Keras VGG19 with top (16 convs, fc1/fc2 4096), 224x224x3 -> 1000, int8"},
      {"inception_v3", "Keras InceptionV3 (mixed0..mixed10), 299x299x3 -> 1000, int8"},
      {"alexnet", "AlexNet for CIFAR-10 (5 convs, 1 dense), 32x32x3 -> 10, int8"},
      {"alexnet_bn", "AlexNet with batch norm for CIFAR-10, 32x32x3 -> 10, int8"},
      {"vgg16_cifar", "VGG16 with batch norm for CIFAR-10, 32x32x3 -> 10, int8"},
      {"vgg19_cifar", "VGG19 with batch norm for CIFAR-10, 32x32x3 -> 10, int8"},
      {"inception_bn",
       "GoogLeNet with batch norm for CIFAR-10 (9 inception modules), 32x32x3 -> 10, int8"},
      {"resnet18_cifar", "ResNet-18 for CIFAR-10 (basic blocks 2-2-2-2), 32x32x3 -> 10, int8"},
      {"resnet50_cifar", "ResNet-50 for CIFAR-10 (bottlenecks 3-4-6-3), 32x32x3 -> 10, int8"},
      {"resnet152_cifar", "ResNet-152 for CIFAR-10 (bottlenecks 3-8-36-3), 32x32x3 -> 10, int8"},
      {"mobilenet_v2_cifar", "MobileNetV2 for CIFAR-10, 32x32x3 -> 10, int8"},
      {"unet", "U-Net 16/32/64/128 + 256 bottleneck, 128x128x3 -> 128x128x4 softmax, int8"},
  };
  return entries;
}

const ZooEntry& find(const std::string& name) {
  for (const ZooEntry& e : registry()) {
    if (name == e.name) return e;
  }
  std::string known;
  for (const ZooEntry& e : registry()) known += (known.empty() ? "" : ", ") + std::string(e.name);
  throw Error("unknown zoo model '" + name + "' (known: " + known + ")");
}

}  // namespace

std::vector<std::string> zoo_model_names() {
  std::vector<std::string> names;
  for (const ZooEntry& e : registry()) names.emplace_back(e.name);
  return names;
}

std::string zoo_model_summary(const std::string& name) {
  return find(name).summary;
}

std::vector<uint8_t> build_zoo_model(const std::string& name, const ZooOptions& options) {
  const ZooEntry& entry = find(name);
  zoo::GraphBuilder g(options.seed, options.float_model);
  zoo::LayerTable table = zoo::zoo_table(entry.name);
  if (options.input_size != 0) zoo::resize_input(table, options.input_size);
  const std::string architecture = zoo::build_from_table(g, table);
  if (options.float_model) {
    return g.finish("pipecut zoo " + std::string(entry.name) + ": " + architecture +
                    ". Synthetic float32 weights (seed " + std::to_string(options.seed) +
                    "; He-normal, seeded batch norm folded into conv weights and biases), "
                    "unquantized: calibrate and quantize it with pipecut quantize.");
  }
  const std::string description =
      "pipecut zoo " + std::string(entry.name) + ": " + architecture +
      ". Synthetic weights (seed " + std::to_string(options.seed) +
      "; He-normal, seeded batch norm folded into conv weights and biases). Full int8: "
      "per-channel symmetric int8 weights, int32 biases, asymmetric int8 activations whose "
      "scales are an analytic estimate (mean/std propagated through the layers, range = mean +- "
      "4 std), not calibrated on data.";
  return g.finish(description);
}

}  // namespace pipecut
