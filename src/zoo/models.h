#pragma once
// The zoo's architectures, as layer tables (layer_table.h).
#include <string>
#include <vector>

#include "zoo/builder.h"
#include "zoo/layer_table.h"

namespace pipecut::zoo {

// Every zoo architecture is a layer table; the table of a zoo name, empty for other names.
LayerTable zoo_table(const std::string& name);

// tables_keras.cpp
LayerTable keras_resnet(int depth);  // 18, 34 (basic blocks), 50, 101, 152 (bottlenecks)
LayerTable keras_vgg(const std::vector<int>& convs_per_block, const std::string& summary);
LayerTable keras_mobilenet_v2();
LayerTable keras_inception_v3();
// tables_other.cpp
LayerTable small_unet();
LayerTable slim_inception_v4();
// tables_cifar.cpp: alexnet, alexnet_bn, vgg16/19_cifar, resnet18/50/152_cifar,
// mobilenet_v2_cifar, inception_bn; empty for other names.
LayerTable cifar_table(const std::string& name);

}  // namespace pipecut::zoo
