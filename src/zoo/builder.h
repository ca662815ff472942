#pragma once
// A small Keras-like graph builder for the zoo. Each layer call appends one int8 TFLite op (with
// its seeded, per-channel quantized weights and int32 biases), or in a float build one float32 op
// with the same weights unquantized, and returns the handle of its output activation. Activation
// scales come from an analytic estimate: every activation carries an estimated mean and standard
// deviation, propagated layer by layer (see docs/zoo.md).
//
// Only builder.cpp includes the generated flatbuffers code; this header stays light.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pipecut::zoo {

enum class Activation { kNone, kRelu, kRelu6 };
enum class Padding { kSame, kValid };

// Handle of an activation tensor of the graph being built.
struct Node {
  int tensor = -1;
};

// CONV_2D, or DEPTHWISE_CONV_2D (depth multiplier 1; `filters` is then ignored).
struct ConvSpec {
  std::string output;   // output tensor name, converter style ("model/x_relu/Relu;model/x_bn/...")
  std::string weights;  // weight tensor name; also keys the layer's random stream
  std::string bias;     // bias tensor name
  int filters = 0;
  int kernel = 3;        // kernel x kernel window ...
  int kernel_width = 0;  // ... or kernel x kernel_width when set (Inception's 1x7, 7x1, ...)
  int stride = 1;
  Padding padding = Padding::kSame;
  Activation activation = Activation::kNone;
  bool batch_norm = true;    // fold a seeded batch norm into the weights and bias
  double bn_epsilon = 1e-3;  // Keras BatchNormalization default
};

// FULLY_CONNECTED on a [1, C] input (no batch norm; the bias is seeded and small).
struct DenseSpec {
  std::string output;
  std::string weights;
  std::string bias;
  int units = 0;
  Activation activation = Activation::kNone;
};

class GraphBuilder {
 public:
  // float_model: float32 activations and weights (the same folded weights the int8 model
  // quantizes), every op at version 1; otherwise the int8 model with analytic scales.
  explicit GraphBuilder(uint64_t seed, bool float_model = false);
  ~GraphBuilder();
  GraphBuilder(const GraphBuilder&) = delete;
  GraphBuilder& operator=(const GraphBuilder&) = delete;

  // The graph input: int8, scale 1/127.5, zero point -1 (real values in [-1, 1]).
  Node input(const std::string& name, const std::vector<int32_t>& shape);

  Node conv2d(Node x, const ConvSpec& spec);
  Node depthwise_conv2d(Node x, const ConvSpec& spec);
  Node dense(Node x, const DenseSpec& spec);
  Node add(Node a, Node b, const std::string& name, Activation activation = Activation::kNone);
  Node max_pool(Node x, const std::string& name, int size, int stride,
                Padding padding = Padding::kValid);
  // AVERAGE_POOL_2D; padded positions are left out of each window, as TFLite does.
  Node avg_pool(Node x, const std::string& name, int size, int stride,
                Padding padding = Padding::kValid);
  // TFLite MEAN over axes 1 and 2, keep_dims false, as the converter writes
  // GlobalAveragePooling2D: [1, H, W, C] -> [1, C].
  Node avg_pool_global(Node x, const std::string& name);
  // Softmax over the last axis; output scale 1/256, zero point -128 as TFLite requires.
  Node softmax(Node x, const std::string& name);
  // TANH; output scale 1/128, zero point 0 as TFLite requires.
  Node tanh(Node x, const std::string& name);
  // Zero padding of H (top, bottom) and W (left, right).
  Node pad(Node x, const std::string& name, int top, int bottom, int left, int right);
  // CONCATENATION over the channel axis.
  Node concat(const std::vector<Node>& xs, const std::string& name);
  // RESIZE_NEAREST_NEIGHBOR by an integer factor.
  Node upsample(Node x, const std::string& name, int factor);
  Node reshape(Node x, const std::string& name, const std::vector<int32_t>& shape);

  const std::vector<int32_t>& shape(Node x) const;

  // Marks the graph output; `signature_name` names it in the serving_default signature.
  void set_output(Node x, const std::string& signature_name);
  // Packs the model (TFL3). The builder is spent afterwards.
  std::vector<uint8_t> finish(const std::string& description);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "model/" + layer: the converter's prefix for tensors of a functional Keras model.
inline std::string tf_name(const std::string& layer_op) {
  return "model/" + layer_op;
}

// A Keras Dense layer as the converter names it: "<name>/MatMul", "<name>/BiasAdd" and, fused,
// "<name>/Relu" first.
DenseSpec keras_dense(const std::string& name, int units, bool relu);

}  // namespace pipecut::zoo
