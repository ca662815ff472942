#include <algorithm>
#include <map>
#include <set>

#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/inputs.h"
#include "pipecut/model.h"
#include "pipecut/onnx_import.h"
#include "pipecut/runtime.h"
#include "pipecut/verify.h"

namespace pipecut {

namespace {

using ValueMap = std::map<std::string, TensorValue>;

struct Loaded {
  Model model;
  std::unique_ptr<Executable> exec;
};

// Differing bytes and the largest difference, in quantized steps for 8-bit tensors.
TensorMismatch compare(const TensorValue& expected, const TensorValue& actual, int input) {
  TensorMismatch m;
  m.input = input;
  m.tensor = expected.name;
  if (expected.data.size() != actual.data.size() || expected.shape != actual.shape) {
    m.differing_bytes = static_cast<int64_t>(std::max(expected.data.size(), actual.data.size()));
    m.max_abs_diff = 255;
    return m;
  }
  for (size_t i = 0; i < expected.data.size(); ++i) {
    if (expected.data[i] == actual.data[i]) continue;
    ++m.differing_bytes;
    int diff = 0;
    if (expected.type == DType::kInt8) {
      diff = std::abs(static_cast<int8_t>(expected.data[i]) - static_cast<int8_t>(actual.data[i]));
    } else {
      diff = std::abs(static_cast<int>(expected.data[i]) - static_cast<int>(actual.data[i]));
    }
    m.max_abs_diff = std::max(m.max_abs_diff, diff);
  }
  return m;
}

std::string relative_file(const SplitTree& tree, const TreeFolder& folder, const TreeFile& file) {
  return std::filesystem::relative(file.path, tree.dir / folder.name).string();
}

}  // namespace

bool VerifyReport::ok() const {
  return std::all_of(files.begin(), files.end(), [](const FileResult& f) { return f.ok(); });
}

std::string VerifyReport::first_mismatch() const {
  for (const auto& f : files) {
    if (f.ok()) continue;
    const auto& m = f.mismatches.front();
    return "input " + std::to_string(m.input) + ": " + f.folder + "/" + f.file + ": tensor '" +
           m.tensor + "' differs in " + std::to_string(m.differing_bytes) + " bytes (max " +
           std::to_string(m.max_abs_diff) + ")";
  }
  return "";
}

VerifyReport verify_split_tree(const SplitTree& tree, const VerifyOptions& options) {
  const std::filesystem::path source_path = options.model.empty() ? tree.source : options.model;
  const Model source = load_model_file(source_path);
  if (content_hash_like(source.bytes(), tree.source_hash) != tree.source_hash) {
    throw Error(source_path.string() + ": is not the model " + tree.dir.string() +
                " was cut from (its hash differs); pass the right one with --model");
  }
  // Every boundary tensor, kept from the whole model's run for comparison.
  std::set<std::string> boundary;
  for (const auto& folder : tree.folders) {
    for (const auto& file : folder.files) boundary.insert(file.outputs.begin(), file.outputs.end());
  }
  CpuOptions source_options;
  source_options.threads = options.threads;
  source_options.keep.assign(boundary.begin(), boundary.end());
  auto whole = load_cpu(source, source_options);

  int64_t total_steps = 1;
  for (const auto& folder : tree.folders) total_steps += static_cast<int64_t>(folder.files.size());
  int64_t step = 0;
  auto progress = [&](const std::string& what) {
    if (options.progress) options.progress(step, total_steps, what);
  };

  // By content: pairs_kN's prefix segments are the same bytes as full_split's, so each distinct
  // file is compiled once (ResNet-101 at 7 MiB: 13 of 34 files) and run wherever it stands.
  std::map<std::string, Loaded> loaded;
  CpuOptions file_options;
  file_options.threads = options.threads;
  for (const auto& folder : tree.folders) {
    for (const auto& file : folder.files) {
      progress("loading " + folder.name + "/" + file.path.filename().string());
      Model m = Model::load(file.path);
      if (content_hash_like(m.bytes(), file.hash) != file.hash) {
        throw Error(file.path.string() + ": differs from the file meta.json describes (hash)");
      }
      if (!loaded.count(file.hash)) {
        auto exec = load_cpu(m, file_options);
        loaded.emplace(file.hash, Loaded{std::move(m), std::move(exec)});
      }
      ++step;
    }
  }

  // The inputs: seeded random ones, then the images.
  std::vector<std::vector<TensorValue>> inputs;
  for (int i = 0; i < options.random_inputs; ++i)
    inputs.push_back(random_inputs(whole->inputs(), options.seed + static_cast<uint64_t>(i)));
  for (const auto& image : options.images) {
    if (whole->inputs().size() != 1)
      throw Error(image.string() + ": the model has several inputs; images need one");
    inputs.push_back({image_input(whole->inputs()[0], image)});
  }

  VerifyReport report;
  report.source = source_path.string();
  report.inputs = static_cast<int>(inputs.size());
  std::map<std::pair<std::string, std::string>, size_t> result_index;
  for (const auto& folder : tree.folders) {
    for (const auto& file : folder.files) {
      result_index[{folder.name, file.path.string()}] = report.files.size();
      report.files.push_back({folder.name, relative_file(tree, folder, file), 0, {}});
    }
  }

  for (size_t i = 0; i < inputs.size(); ++i) {
    progress("input " + std::to_string(i + 1) + " of " + std::to_string(inputs.size()));
    ValueMap reference;
    for (const auto& v : inputs[i]) reference[v.name] = v;
    const auto outputs = whole->run(inputs[i]);
    for (size_t k = 0; k < outputs.size(); ++k) reference[whole->outputs()[k].name] = outputs[k];
    for (auto& v : whole->kept()) reference[v.name] = std::move(v);

    for (const auto& folder : tree.folders) {
      ValueMap values;
      for (const auto& v : inputs[i]) values[v.name] = v;
      for (const auto& file : folder.files) {
        FileResult& result = report.files[result_index[{folder.name, file.path.string()}]];
        Executable& exec = *loaded.at(file.hash).exec;
        std::vector<TensorValue> feed;
        for (const auto& spec : exec.inputs()) {
          auto it = values.find(spec.name);
          if (it == values.end()) {
            throw Error(file.path.string() + ": input '" + spec.name +
                        "' is made by no earlier file of " + folder.name);
          }
          feed.push_back(it->second);
        }
        const auto produced = exec.run(feed);
        for (size_t k = 0; k < produced.size(); ++k) {
          const std::string& name = exec.outputs()[k].name;
          auto ref = reference.find(name);
          ++result.tensors_checked;
          if (ref == reference.end()) {
            result.mismatches.push_back({static_cast<int>(i), name, -1, 0});
          } else {
            TensorMismatch m = compare(ref->second, produced[k], static_cast<int>(i));
            if (m.differing_bytes > 0) result.mismatches.push_back(m);
          }
          values[name] = produced[k];
        }
      }
      // The chain's final outputs are the model's.
      for (const auto& spec : whole->outputs()) {
        if (!values.count(spec.name)) {
          report.files[result_index[{folder.name, folder.files.back().path.string()}]]
              .mismatches.push_back(
                  {static_cast<int>(i), spec.name + " (model output never produced)", -1, 0});
        }
      }
    }
  }
  ++step;
  progress("done");
  return report;
}

nlohmann::ordered_json verify_report_json(const VerifyReport& report) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& f : report.files) {
    nlohmann::ordered_json mismatches = nlohmann::ordered_json::array();
    for (const auto& m : f.mismatches) {
      mismatches.push_back({{"input", m.input},
                            {"tensor", m.tensor},
                            {"differing_bytes", m.differing_bytes},
                            {"max_abs_diff", m.max_abs_diff}});
    }
    files.push_back({{"folder", f.folder},
                     {"file", f.file},
                     {"ok", f.ok()},
                     {"tensors_checked", f.tensors_checked},
                     {"mismatches", mismatches}});
  }
  return {{"ok", report.ok()},
          {"source", report.source},
          {"inputs", report.inputs},
          {"first_mismatch", report.first_mismatch()},
          {"files", files}};
}

}  // namespace pipecut
