// The queues of a tree folder: names from the folder's identity, and which tensors each stage
// sends on (its outputs and the ride-alongs a later stage or the client still needs).
#include <algorithm>
#include <set>

#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/model.h"
#include "pipecut/remote.h"
#include "pipecut/split_tree.h"
#include "remote/frame_codec.h"

namespace pipecut {

namespace {

TensorSpec spec_named(const Model& model, const std::string& name, const std::string& file) {
  for (const Tensor& t : model.tensors()) {
    if (t.name == name) return TensorSpec{t.name, t.type, t.shape, t.quant};
  }
  throw Error(file + ": has no tensor " + name + " that its meta.json names");
}

}  // namespace

std::string RemoteLayout::results_subject(const std::string& run) const {
  return "pipecut." + id + ".out." + run;
}

void RemoteLayout::name_queues() {
  results_stream = "PIPECUT_" + id + "_OUT";
  for (size_t i = 0; i < stages.size(); ++i) {
    stages[i].stream = "PIPECUT_" + id + "_S" + std::to_string(i + 1);
    stages[i].subject = "pipecut." + id + ".s" + std::to_string(i + 1);
  }
}

RemoteLayout remote_layout(const std::filesystem::path& dir, const std::string& folder_name) {
  const SplitTree tree = read_split_tree(dir);
  const TreeFolder* folder = &tree.full_split();
  if (!folder_name.empty()) {
    folder = nullptr;
    for (const auto& f : tree.folders)
      if (f.name == folder_name) folder = &f;
    if (!folder) throw Error(dir.string() + ": has no folder " + folder_name);
  }
  if (folder->files.empty()) throw Error(dir.string() + "/" + folder->name + ": has no files");
  RemoteLayout layout;
  std::string identity = tree.source_hash + "|" + folder->name;
  for (const auto& f : folder->files) identity += "|" + f.hash;
  const std::string h = content_hash(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(identity.data()), identity.size()));
  layout.id = h.substr(h.find(':') + 1, 16);

  const size_t n = folder->files.size();
  // Every tensor's spec, from the file that produces it (or the first that reads a model input).
  std::vector<std::pair<std::string, TensorSpec>> specs;
  const auto known = [&](const std::string& name) -> const TensorSpec* {
    for (const auto& [k, s] : specs)
      if (k == name) return &s;
    return nullptr;
  };
  std::set<std::string> produced;
  std::vector<std::string> inputs, outputs;
  for (const auto& f : folder->files) {
    const Model model = Model::load(f.path);
    for (const auto& name : f.inputs) {
      if (!known(name)) specs.emplace_back(name, spec_named(model, name, f.path.string()));
      if (!produced.count(name) && std::find(inputs.begin(), inputs.end(), name) == inputs.end())
        inputs.push_back(name);  // a model input, whichever stage reads it
    }
    for (const auto& name : f.outputs) {
      if (!known(name)) specs.emplace_back(name, spec_named(model, name, f.path.string()));
      produced.insert(name);
    }
  }
  // The client's results: what a stage produces that no later stage reads, in stage order.
  for (size_t i = 0; i < n; ++i) {
    for (const auto& name : folder->files[i].outputs) {
      bool read_later = false;
      for (size_t j = i + 1; j < n; ++j) {
        const auto& in = folder->files[j].inputs;
        read_later = read_later || std::find(in.begin(), in.end(), name) != in.end();
      }
      if (!read_later) outputs.push_back(name);
    }
  }
  for (const auto& name : inputs) layout.inputs.push_back(*known(name));
  for (const auto& name : outputs) layout.outputs.push_back(*known(name));
  std::vector<std::string> carried = inputs;
  for (size_t i = 0; i < n; ++i) {
    RemoteLayout::Stage stage;
    stage.file = folder->files[i].path;
    std::set<std::string> needed(outputs.begin(), outputs.end());
    for (size_t j = i + 1; j < n; ++j)
      needed.insert(folder->files[j].inputs.begin(), folder->files[j].inputs.end());
    std::vector<std::string> next;
    for (const auto& list : {carried, folder->files[i].outputs})
      for (const auto& name : list)
        if (needed.count(name) && std::find(next.begin(), next.end(), name) == next.end())
          next.push_back(name);
    std::vector<TensorSpec> sent;
    for (const auto& name : next) sent.push_back(*known(name));
    stage.forwards = next;
    stage.largest_message = remote::encoded_size(0, sent) + 512;  // + NATS headers
    carried = next;
    layout.stages.push_back(std::move(stage));
  }
  layout.name_queues();
  return layout;
}

}  // namespace pipecut
