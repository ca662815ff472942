#pragma once
// The zoo's architectures. Each adds its layers to `g`, marks the output and returns the
// one-line summary used in the model description.
#include <string>

#include "zoo/builder.h"
#include "zoo/layer_table.h"

namespace pipecut::zoo {

// depth 18 or 34: basic blocks; 50, 101 or 152: bottleneck blocks (Keras ResNet v1).
std::string build_resnet(GraphBuilder& g, int depth);
std::string build_mobilenet_v2(GraphBuilder& g);
std::string build_vgg16(GraphBuilder& g);
std::string build_inception_v4(GraphBuilder& g);
// The table-built architectures (tables.cpp): vgg19 and the CIFAR-10 family; an empty table for
// other names.
LayerTable zoo_table(const std::string& name);
std::string build_unet(GraphBuilder& g);

}  // namespace pipecut::zoo
