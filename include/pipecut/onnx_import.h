#pragma once
// Importing ONNX models, as PyTorch and torchvision export them, into float32 TFLite models that
// the runtime, quantize, split and verify take like any other.
//
// The file is read and checked with Debian's ONNX library (protobuf classes, checker, version
// converter: models below opset 13 are converted to 13 first), then converted node by node:
//  - Layout: ONNX computes in NCHW, the result in NHWC. Every activation carries the order its
//    bytes are in; convolutions, pooling and resizing want NHWC, element-wise ops take whatever
//    they get, a Transpose only relabels, and a TRANSPOSE op is emitted only where an op needs
//    an order the data is not in (a Reshape that would reorder elements, say). Weights are
//    rearranged once, here. Image inputs and image-like outputs are NHWC by default;
//    keep_nchw_io keeps the ONNX shapes at the edges with one TRANSPOSE each.
//  - Names: every activation keeps its ONNX name, so PyTorch's module paths
//    ("/layer1/layer1.1/relu_1/Relu_output_0") name cuts (`split --cuts layer1`). A Relu or Clip
//    fused into the op before it gives that op's output its own name.
//  - Constant shape arithmetic (Shape, Gather, Unsqueeze, Concat, ... on constants) is evaluated
//    at import; BatchNormalization is folded into the convolution before it.
// Unsupported input gets a pipecut::Error naming the file, the node, its op type and the opset.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "pipecut/model.h"

namespace pipecut {

struct OnnxImportOptions {
  int64_t batch = 1;  // the size given to a dynamic first (batch) dimension
  // Shapes of inputs with other dynamic dimensions, in ONNX order: name -> {1, 3, 224, 224}.
  std::map<std::string, std::vector<int64_t>> input_shapes;
  bool keep_nchw_io = false;  // inputs and outputs keep ONNX's NCHW shapes
};

struct OnnxImportResult {
  std::vector<uint8_t> tflite;  // the float32 model
  int opset = 0;                // the default domain's opset the file declares
  std::string producer;         // "pytorch 1.13.0", as the file says
  int onnx_nodes = 0;
  int tflite_ops = 0;
  int folded_nodes = 0;     // nodes evaluated at import (constant shape arithmetic, Identity)
  int fused_nodes = 0;      // BatchNormalization, Relu, Clip, ... merged into the op before
  int transposes = 0;       // TRANSPOSE ops in the result
  int body_transposes = 0;  // of those, between the first and last convolution
};

OnnxImportResult import_onnx(const std::filesystem::path& path, const OnnxImportOptions& options);

// A model file as the commands take it: a file named *.onnx is imported with the default options
// (NHWC, batch 1; the same file always gives the same bytes), anything else is loaded as TFLite.
Model load_model_file(const std::filesystem::path& path);

}  // namespace pipecut
