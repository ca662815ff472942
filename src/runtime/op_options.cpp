#include "runtime/op_options.h"

#include "format/tflite_schema.h"

namespace pipecut::runtime {

namespace {

Activation activation(tflite::ActivationFunctionType a) {
  switch (a) {
    case tflite::ActivationFunctionType_RELU:
      return Activation::kRelu;
    case tflite::ActivationFunctionType_RELU_N1_TO_1:
      return Activation::kReluN1To1;
    case tflite::ActivationFunctionType_RELU6:
      return Activation::kRelu6;
    case tflite::ActivationFunctionType_TANH:
      return Activation::kTanh;
    case tflite::ActivationFunctionType_SIGN_BIT:
      return Activation::kSignBit;
    default:
      return Activation::kNone;
  }
}

Padding padding(tflite::Padding p) {
  return p == tflite::Padding_VALID ? Padding::kValid : Padding::kSame;
}

}  // namespace

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kNone:
      return "NONE";
    case Activation::kRelu:
      return "RELU";
    case Activation::kReluN1To1:
      return "RELU_N1_TO_1";
    case Activation::kRelu6:
      return "RELU6";
    case Activation::kTanh:
      return "TANH";
    case Activation::kSignBit:
      return "SIGN_BIT";
  }
  return "?";
}

OpOptions read_op_options(const Model& model, const Op& op) {
  OpOptions o;
  const tflite::Model* root = model.flatbuffer();
  if (!root || !root->subgraphs() || root->subgraphs()->size() == 0) return o;
  const auto* operators = root->subgraphs()->Get(0)->operators();
  if (!operators || op.index < 0 || static_cast<uint32_t>(op.index) >= operators->size()) return o;
  const tflite::Operator* fb = operators->Get(static_cast<uint32_t>(op.index));

  if (const auto* c = fb->builtin_options_as_Conv2DOptions()) {
    o.padding = padding(c->padding());
    o.stride_w = c->stride_w();
    o.stride_h = c->stride_h();
    o.dilation_w = c->dilation_w_factor();
    o.dilation_h = c->dilation_h_factor();
    o.activation = activation(c->fused_activation_function());
  } else if (const auto* d = fb->builtin_options_as_DepthwiseConv2DOptions()) {
    o.padding = padding(d->padding());
    o.stride_w = d->stride_w();
    o.stride_h = d->stride_h();
    o.dilation_w = d->dilation_w_factor();
    o.dilation_h = d->dilation_h_factor();
    o.activation = activation(d->fused_activation_function());
  } else if (const auto* p = fb->builtin_options_as_Pool2DOptions()) {
    o.padding = padding(p->padding());
    o.stride_w = p->stride_w();
    o.stride_h = p->stride_h();
    o.filter_w = p->filter_width();
    o.filter_h = p->filter_height();
    o.activation = activation(p->fused_activation_function());
  } else if (const auto* f = fb->builtin_options_as_FullyConnectedOptions()) {
    o.activation = activation(f->fused_activation_function());
    o.weights_format = static_cast<int>(f->weights_format());
  } else if (const auto* cc = fb->builtin_options_as_ConcatenationOptions()) {
    o.axis = cc->axis();
    o.activation = activation(cc->fused_activation_function());
  } else if (const auto* a = fb->builtin_options_as_AddOptions()) {
    o.activation = activation(a->fused_activation_function());
  } else if (const auto* s = fb->builtin_options_as_SubOptions()) {
    o.activation = activation(s->fused_activation_function());
  } else if (const auto* m = fb->builtin_options_as_MulOptions()) {
    o.activation = activation(m->fused_activation_function());
  } else if (const auto* sm = fb->builtin_options_as_SoftmaxOptions()) {
    o.beta = sm->beta();
  } else if (const auto* rb = fb->builtin_options_as_ResizeBilinearOptions()) {
    o.align_corners = rb->align_corners();
    o.half_pixel_centers = rb->half_pixel_centers();
  } else if (const auto* rn = fb->builtin_options_as_ResizeNearestNeighborOptions()) {
    o.align_corners = rn->align_corners();
    o.half_pixel_centers = rn->half_pixel_centers();
  } else if (const auto* lr = fb->builtin_options_as_LeakyReluOptions()) {
    o.alpha = lr->alpha();
  } else if (const auto* dv = fb->builtin_options_as_DivOptions()) {
    o.activation = activation(dv->fused_activation_function());
  } else if (const auto* tc = fb->builtin_options_as_TransposeConvOptions()) {
    o.padding = padding(tc->padding());
    o.stride_w = tc->stride_w();
    o.stride_h = tc->stride_h();
    o.activation = activation(tc->fused_activation_function());
  } else if (const auto* ss = fb->builtin_options_as_StridedSliceOptions()) {
    o.begin_mask = ss->begin_mask();
    o.end_mask = ss->end_mask();
    o.ellipsis_mask = ss->ellipsis_mask();
    o.new_axis_mask = ss->new_axis_mask();
    o.shrink_axis_mask = ss->shrink_axis_mask();
    o.slice_offset = ss->offset();
  }
  return o;
}

}  // namespace pipecut::runtime
