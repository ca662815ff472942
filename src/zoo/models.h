#pragma once
// The zoo's architectures. Each adds its layers to `g`, marks the output and returns the
// one-line summary used in the model description.
#include <string>

#include "zoo/builder.h"
#include "zoo/layer_table.h"

namespace pipecut::zoo {

std::string build_inception_v4(GraphBuilder& g);
// The table-built architectures (tables.cpp): the ResNets, VGG16/19, Inception v3 and the CIFAR-10
// family; an empty table for other names.
LayerTable zoo_table(const std::string& name);
std::string build_unet(GraphBuilder& g);

}  // namespace pipecut::zoo
