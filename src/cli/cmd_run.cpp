// pipecut run MODEL: one model on the CPU interpreter; outputs, top-5, latency.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/run_profile.h"
#include "cli/table.h"
#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/inputs.h"
#include "pipecut/json.h"
#include "pipecut/onnx_import.h"
#include "pipecut/progress.h"
#include "pipecut/runtime.h"

namespace pipecut::cli {

namespace {

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string image;
  uint64_t random = 1;
  std::string output;
  std::vector<std::string> dump;
  int threads = 1;
  int iterations = 10;
  std::string labels;
  bool profile = false;
  bool json = false;
};

// Class scores: one row of at least ten values.
bool looks_like_scores(const TensorValue& v) {
  int64_t n = 1;
  for (int32_t d : v.shape) n *= d;
  const bool row = v.shape.size() == 1 || (v.shape.size() == 2 && v.shape[0] == 1);
  return row && n >= 10 && (is_8bit(v.type) || v.type == DType::kFloat32);
}

float real_value(const TensorValue& v, size_t i) {
  if (v.type == DType::kFloat32) {
    float f;
    std::memcpy(&f, v.data.data() + i * 4, 4);
    return f;
  }
  const int q = v.type == DType::kInt8 ? static_cast<int8_t>(v.data[i]) : v.data[i];
  const float scale = v.quant.present() ? v.quant.scale[0] : 1.0f;
  const int64_t zero = v.quant.zero_point.empty() ? 0 : v.quant.zero_point[0];
  return scale * static_cast<float>(q - zero);
}

std::vector<std::pair<int, float>> top5(const TensorValue& v) {
  const size_t n = v.type == DType::kFloat32 ? v.data.size() / 4 : v.data.size();
  std::vector<std::pair<int, float>> scores;
  for (size_t i = 0; i < n; ++i) scores.emplace_back(static_cast<int>(i), real_value(v, i));
  const size_t k = std::min<size_t>(5, scores.size());
  std::partial_sort(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(k), scores.end(),
                    [](const auto& a, const auto& b) {
                      return a.second > b.second || (a.second == b.second && a.first < b.first);
                    });
  scores.resize(k);
  return scores;
}

std::vector<std::string> read_labels(const std::string& path) {
  std::vector<std::string> labels;
  if (path.empty()) return labels;
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open the labels file");
  for (std::string line; std::getline(in, line);) labels.push_back(line);
  return labels;
}

std::string file_name_for(const std::string& tensor) {
  std::string out = tensor;
  for (char& c : out) {
    if (c == '/' || c == ';' || c == ':' || c == ' ') c = '_';
  }
  return out.substr(0, 120) + ".raw";
}

nlohmann::ordered_json value_json(const TensorValue& v) {
  nlohmann::ordered_json q = nullptr;
  if (v.quant.present()) q = {{"scale", v.quant.scale}, {"zero_point", v.quant.zero_point}};
  return {{"name", v.name},
          {"shape", v.shape},
          {"type", dtype_name(v.type)},
          {"bytes", v.data.size()},
          {"quantization", q}};
}

}  // namespace

void add_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Run a model on the CPU interpreter: outputs, top-5 classes, latency");
  cmd->add_option("model", args->model, ".tflite file, or .onnx (imported on the fly, see import)")
      ->required();
  cmd->add_option("--input", args->inputs, "raw input file(s), one per model input, in order");
  cmd->add_option("--image", args->image,
                  "JPEG, PNG or BMP picture (any size) or square raw .rgb file for a [1,H,W,3] "
                  "input (resized)");
  cmd->add_option("--random", args->random, "seed for random inputs (when no --input/--image)")
      ->capture_default_str();
  cmd->add_option("--output", args->output, "write each output's raw bytes and manifest.json here");
  cmd->add_option("--dump", args->dump,
                  "also write these intermediate tensors (names as in split --cuts)");
  cmd->add_option("--threads", args->threads, "CPU threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--iterations", args->iterations, "runs to time")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--labels", args->labels, "class labels, one per line (index 0 first)");
  cmd->add_flag("--profile", args->profile,
                "after the timing runs, time every op over as many runs: per op type and the "
                "slowest ops");
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback([args] {
    const Model model = load_model_file(args->model);
    const Graph graph(model);
    CpuOptions options;
    options.threads = args->threads;
    for (const auto& name : args->dump)
      options.keep.push_back(model.tensor(find_tensor(model, graph, name)).name);
    auto exec = load_cpu(model, options);
    std::vector<TensorValue> inputs;
    if (!args->inputs.empty()) {
      if (args->inputs.size() != exec->inputs().size()) {
        throw Error(args->model + ": takes " + std::to_string(exec->inputs().size()) + " inputs, " +
                    std::to_string(args->inputs.size()) + " --input files given");
      }
      for (size_t i = 0; i < args->inputs.size(); ++i)
        inputs.push_back(raw_input(exec->inputs()[i], args->inputs[i]));
    } else if (!args->image.empty()) {
      if (exec->inputs().size() != 1)
        throw Error(args->model + ": --image needs a model with one input");
      inputs.push_back(image_input(exec->inputs()[0], args->image));
    } else {
      inputs = random_inputs(exec->inputs(), args->random);
    }
    const auto labels = read_labels(args->labels);

    std::vector<double> ms;
    std::vector<TensorValue> outputs = exec->run(inputs);  // warm-up, and the result shown
    ProgressBar bar(!args->json);
    for (int i = 0; i < args->iterations; ++i) {
      bar.update(i, args->iterations, "timing runs");
      const auto start = std::chrono::steady_clock::now();
      outputs = exec->run(inputs);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    bar.finish();
    std::optional<Profile> profile;
    if (args->profile) {  // after the timing runs, so that its timers do not slow them
      ProgressBar profiling(!args->json);
      profile = make_profile(model, with_progress(profiling, "profiling every op", [&] {
                               return cpu_profile(*exec, inputs, args->iterations);
                             }));
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    const double p90 = ms[std::min(
        ms.size() - 1, static_cast<size_t>(std::ceil(0.9 * static_cast<double>(ms.size()))) - 1)];
    const auto kept = exec->kept();

    if (!args->output.empty()) {
      std::filesystem::create_directories(args->output);
      nlohmann::ordered_json manifest = {{"model", args->model},
                                         {"outputs", nlohmann::ordered_json::array()},
                                         {"dumps", nlohmann::ordered_json::array()}};
      for (auto [list, key] :
           {std::pair<const std::vector<TensorValue>*, const char*>{&outputs, "outputs"},
            std::pair<const std::vector<TensorValue>*, const char*>{&kept, "dumps"}}) {
        for (const auto& v : *list) {
          const std::string file = file_name_for(v.name);
          write_file_atomic(std::filesystem::path(args->output) / file, v.data);
          auto j = value_json(v);
          j["file"] = file;
          manifest[key].push_back(j);
        }
      }
      write_file_atomic(
          std::filesystem::path(args->output) / "manifest.json",
          manifest.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    }

    if (args->json) {
      nlohmann::ordered_json outs = nlohmann::ordered_json::array();
      for (const auto& v : outputs) {
        auto j = value_json(v);
        if (looks_like_scores(v)) {
          nlohmann::ordered_json top = nlohmann::ordered_json::array();
          for (auto [index, score] : top5(v)) {
            top.push_back({{"index", index},
                           {"score", score},
                           {"label", static_cast<size_t>(index) < labels.size()
                                         ? labels[static_cast<size_t>(index)]
                                         : ""}});
          }
          j["top5"] = top;
        }
        outs.push_back(j);
      }
      nlohmann::ordered_json out{
          {"model", args->model},
          {"threads", args->threads},
          {"latency_ms",
           {{"min", ms.front()}, {"median", median}, {"p90", p90}, {"iterations", ms.size()}}},
          {"outputs", outs}};
      if (profile) out["profile"] = profile_json(*profile, args->iterations);
      std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return;
    }
    std::cout << args->model << " on " << exec->backend() << ", " << args->threads
              << " thread(s)\n";
    for (const auto& v : outputs) {
      std::cout << "output " << v.name << " " << shape_text(v.shape, 'x') << " "
                << dtype_name(v.type) << "\n";
      if (!looks_like_scores(v)) continue;
      Table table({"rank", "class", "score", "label"}, {true, true, true, false});
      int rank = 1;
      for (auto [index, score] : top5(v)) {
        table.add(
            {std::to_string(rank++), std::to_string(index), fixed(score, 4),
             static_cast<size_t>(index) < labels.size() ? labels[static_cast<size_t>(index)] : ""});
      }
      table.print(std::cout);
    }
    std::printf("latency over %zu runs: min %.3f ms, median %.3f ms, p90 %.3f ms\n", ms.size(),
                ms.front(), median, p90);
    if (profile) print_profile(*profile, model, args->iterations);
    if (!args->output.empty()) std::cout << "wrote outputs to " << args->output << "\n";
  });
}

}  // namespace pipecut::cli
