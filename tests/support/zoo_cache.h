#pragma once
// Zoo models built once per test process and kept (building ResNet-50 takes about a second).
#include <string>

#include "pipecut/model.h"

namespace pipecut::testing {

const Model& zoo_model(const std::string& name);

}  // namespace pipecut::testing
