#include <algorithm>
#include <map>

#include "pipecut/error.h"
#include "pipecut/model.h"
#include "pipecut/remote.h"

namespace pipecut {

LocalCascade::LocalCascade(const RemoteLayout& layout) : layout_(layout) {
  for (const auto& st : layout.stages) stages_.push_back(load_cpu(Model::load(st.file)));
}

LocalCascade::~LocalCascade() = default;

std::vector<TensorValue> LocalCascade::run(const std::vector<TensorValue>& inputs) {
  if (inputs.size() != layout_.inputs.size()) throw Error("cascade: wrong number of inputs");
  std::map<std::string, TensorValue> values;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TensorValue v = inputs[i];
    if (v.name.empty()) v.name = layout_.inputs[i].name;
    values[v.name] = std::move(v);
  }
  for (size_t s = 0; s < stages_.size(); ++s) {
    std::vector<TensorValue> in;
    for (const TensorSpec& spec : stages_[s]->inputs()) {
      auto it = values.find(spec.name);
      if (it == values.end())
        throw Error("cascade: stage " + std::to_string(s + 1) + " needs " + spec.name);
      in.push_back(it->second);
    }
    for (TensorValue& v : stages_[s]->run(in)) values[v.name] = std::move(v);
  }
  std::vector<TensorValue> out;
  for (const TensorSpec& spec : layout_.outputs) out.push_back(values.at(spec.name));
  return out;
}

}  // namespace pipecut
