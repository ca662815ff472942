#pragma once
// The model zoo: well-known architectures (Keras layouts and tensor names) built as fully int8
// quantized TFLite models with deterministic synthetic weights, so pipecut can be exercised on
// realistic graphs without downloading anything. See docs/zoo.md.
#include <cstdint>
#include <string>
#include <vector>

namespace pipecut {

struct ZooOptions {
  uint64_t seed = 1;  // weights, batch-norm statistics and hence scales derive from it
  // float32: the same graph, names and (folded) weights, unquantized, every op version 1; for
  // `pipecut quantize` to calibrate and quantize. Not for the Edge TPU stacks below.
  bool float_model = false;
  // > 0: the input's height and width instead of the architecture's own (Coral measured its
  // ResNets at 299x299; Keras builds them at 224). Every layer's shape follows; a size the
  // architecture cannot take (U-Net's skips need a multiple of 16) is refused with an Error.
  int input_size = 0;
};

// The known names, in a fixed order ("resnet18", ..., "unet").
std::vector<std::string> zoo_model_names();

// One line describing the model. Throws pipecut::Error for an unknown name.
std::string zoo_model_summary(const std::string& name);

// The .tflite bytes of the named model. The same name and seed always give the same bytes.
// Throws pipecut::Error listing the known names for an unknown one.
std::vector<uint8_t> build_zoo_model(const std::string& name, const ZooOptions& options = {});

// The shapes the Edge TPU estimate was calibrated on (../shared/edgetpu-data, docs/estimate.md).
// `layers` 3x3 'same' convolutions with bias and ReLU, `filters` each, on a height x width x
// channels int8 input.
std::vector<uint8_t> build_conv_stack(int height, int width, int channels, int layers, int filters,
                                      const ZooOptions& options = {});
// Dense layers through `widths` (widths[0] is the input width), each followed by TANH except the
// last unless `tanh_after_last`. Throws pipecut::Error for widths out of range.
std::vector<uint8_t> build_dense_stack(const std::vector<int>& widths, bool tanh_after_last,
                                       const ZooOptions& options = {});

}  // namespace pipecut
