#pragma once
// How far an 8-bit model is from the float model it was quantized from (`pipecut qreport`):
// per layer with weights, the divergence of its dequantized weights from the float ones and the
// signal-to-quantization-noise ratio of its output on real inputs; per model, how close the
// outputs stay. Works for pipecut's own quantization (layers matched by tensor name, which the
// quantizer keeps) and for other quantizers' files such as TensorFlow's (matched by order when
// the names differ and both have as many layers with weights). docs/qreport.md.
#include <cstdint>
#include <string>
#include <vector>

#include "pipecut/model.h"
#include "pipecut/progress.h"
#include "pipecut/runtime.h"

namespace pipecut {

struct QuantLayer {
  std::string name;     // the float layer's output tensor
  std::string op_type;  // CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, TRANSPOSE_CONV
  int float_op = -1, quant_op = -1;
  int64_t macs = 0;
  // Jensen-Shannon divergence (bits, 0..1) between the histograms of the float weights and the
  // dequantized ones (256 bins over their common range), plus the same for the bias when the
  // layer has one (weights and bias weighted 1:1).
  // NaN when the weights (or bias) cannot be read: computed at run time, or a type not read.
  double divergence = 0;
  double weight_divergence = 0;  // the weights' part alone, to set beside the other formats
  // 10 log10(signal power / noise power) of the layer's output over all inputs, the 8-bit value
  // dequantized; +inf when equal, -inf when the float output is all zeros and the 8-bit one not,
  // NaN when not measured (no such tensor, a type not read, outputs of different sizes).
  double sqnr_db = 0;
  // The same divergence for other weight formats of the same float weights (QuantReportOptions;
  // NaN when not asked for): power-of-two scales per output channel (int8 values, the scale
  // rounded up to a power of two, as shift-only hardware wants), and 8-bit float E4M3 (per output
  // channel, the largest magnitude scaled to 448, each value rounded to the nearest E4M3 number).
  double pot_divergence = 0, fp8_divergence = 0;
};

struct QuantReportOptions {
  bool pot = false;  // score power-of-two weight quantization too
  bool fp8 = false;  // score FP8 E4M3 weight quantization too
  // More tensors to compare, by name in both models (a split's boundary tensors).
  std::vector<std::string> tensors;
};

// One of QuantReportOptions::tensors: SQNR over all inputs and the worst input's cosine of the
// float tensor against the 8-bit one dequantized; NaN when a model has no tensor of that name or
// their sizes differ.
struct QuantTensor {
  std::string name;
  double sqnr_db = 0;
  double cosine_min = 0;
};

struct QuantReport {
  std::vector<QuantLayer> layers;  // in the float model's op order
  // "name": every layer paired by its output tensor's name; "order": none, paired in op order
  // (each pair the same op on weights of the same shape); "name and order": both.
  std::string matched_by = "name";
  int unscored_layers = 0;  // layers whose weights could not be read: NaN, left out of the sums
  int inputs = 0;
  int top1_agree = 0;                // inputs whose first output has the same argmax
  double output_cosine_mean = 0;     // cosine similarity of the first outputs, mean over inputs
  double output_cosine_min = 0;      // and the worst input
  double output_sqnr_db = 0;         // of the first output over all inputs
  double divergence_sum = 0;         // sum over layers
  double divergence_log10_macs = 0;  // sum of divergence x log10(MACs)
  double divergence_cbrt_macs = 0;   // sum of divergence x cube root(MACs)
  double weight_divergence_sum = 0;  // int8 weights alone
  double pot_divergence_sum = 0, fp8_divergence_sum = 0;  // NaN when not asked for
  std::vector<QuantTensor> tensors;  // QuantReportOptions::tensors, in that order
};

// A segment of a split of the quantized model: its ops (inclusive, in the quantized model) and,
// filled by quant_segments, what the report says of the layers in it.
struct QuantSegment {
  std::string name;  // the segment's file
  int first_op = 0, last_op = 0;
  int layers = 0;             // layers with weights among its ops
  double divergence_sum = 0;  // their divergences, summed (unscored ones left out)
  double worst_sqnr_db = 0;   // the lowest output SQNR among them (NaN: none measured)
  std::string worst_layer;    // and whose it is
};

// Fills each segment's figures from `report`'s layers (by their op in the quantized model).
std::vector<QuantSegment> quant_segments(const QuantReport& report,
                                         std::vector<QuantSegment> segments);

// `float_inputs` are the float model's inputs (in its input order); the quantized model gets the
// same values quantized with its own input parameters (or as they are when its inputs are
// float). Throws pipecut::Error naming the model when the first is not a float model, the second
// has no 8-bit weights, or their inputs and outputs do not correspond.
QuantReport quant_report(const Model& float_model, const Model& quantized,
                         const std::vector<std::vector<TensorValue>>& float_inputs,
                         const ProgressFn& progress = {}, const QuantReportOptions& options = {});

}  // namespace pipecut

namespace pipecut {

// The per-layer picture: the weights' divergence as bars and the output SQNR as a line, one
// column per layer in op order, as a self-contained SVG document.
std::string quant_report_svg(const QuantReport& report, const std::string& title);

}  // namespace pipecut
