// pipecut plan MODEL: the algorithms' partitions side by side, without writing files.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/granularity_output.h"
#include "cli/split_options.h"
#include "cli/table.h"
#include "pipecut/error.h"
#include "pipecut/files.h"
#include "pipecut/json.h"
#include "pipecut/network_plan.h"
#include "pipecut/onnx_import.h"
#include "pipecut/sizes.h"

namespace pipecut::cli {

namespace {

struct PlanArgs {
  std::string model;
  std::string algorithms = "greedy,optimal,balanced";
  bool json = false;
  bool granularity = false;
  std::string svg;
  SplitArgs split;
};

struct Outcome {
  std::string name;
  bool ok = false;
  SplitPlan plan;
  std::string error;
};

std::string cut_label(const Model& model, const SplitPlan& plan, size_t i) {
  std::string label;
  for (int t : plan.cut_tensors[i]) {
    label += (label.empty() ? "" : "+") + short_tensor_name(model.tensor(t).name);
  }
  if (plan.cut_tensors[i].size() > 2) {
    label = short_tensor_name(model.tensor(plan.cut_tensors[i][0]).name) + " +" +
            std::to_string(plan.cut_tensors[i].size() - 1) + " more";
  }
  return label;
}

void print_side_by_side(const Model& model, const std::vector<Outcome>& outcomes,
                        const SplitOptions& o, bool cpu) {
  std::cout << "model: " << model.origin() << "\nwindow: " << format_size(o.low) << " .. "
            << format_size(o.high) << " (" << size_metric_name(o.metric) << ")\n\n";
  size_t rows = 0;
  for (const auto& out : outcomes) {
    if (out.ok) rows = std::max(rows, out.plan.sizes.size());
  }
  std::vector<std::string> header{"seg"};
  std::vector<bool> right{true};
  for (const auto& out : outcomes) {
    header.push_back(out.name + ": ends at");
    header.push_back("size");
    right.push_back(false);
    right.push_back(true);
  }
  Table table(header, right);
  for (size_t r = 0; r < rows; ++r) {
    std::vector<std::string> row{std::to_string(r + 1)};
    for (const auto& out : outcomes) {
      if (!out.ok || r >= out.plan.sizes.size()) {
        row.insert(row.end(), {"", ""});
        continue;
      }
      const bool last = r + 1 == out.plan.sizes.size();
      row.push_back(last ? "(end)" : cut_label(model, out.plan, r));
      const int64_t size = out.plan.sizes[r];
      const bool inside = size >= o.low && size <= o.high;
      row.push_back(format_size(size) + (inside ? "" : " !"));
    }
    table.add(row);
  }
  auto summary_row = [&](const std::string& label, auto value) {
    std::vector<std::string> row{label};
    for (const auto& out : outcomes) {
      row.push_back(out.ok ? value(out.plan) : "no partition");
      row.push_back("");
    }
    table.add(row);
  };
  summary_row("K", [](const SplitPlan& p) { return std::to_string(p.sizes.size()); });
  summary_row("max", [](const SplitPlan& p) {
    return format_size(*std::max_element(p.sizes.begin(), p.sizes.end()));
  });
  summary_row("min", [](const SplitPlan& p) {
    return format_size(*std::min_element(p.sizes.begin(), p.sizes.end()));
  });
  summary_row("crossing", [&](const SplitPlan& p) {
    int64_t bytes = 0;
    for (const auto& tensors : p.cut_tensors) {
      for (int t : tensors) bytes += model.tensor(t).byte_size();
    }
    return format_size(bytes);
  });
  summary_row("in window", [](const SplitPlan& p) {
    return std::string(p.partition.within_window ? "yes" : "NO");
  });
  if (o.speed.segment_ms) {  // the Edge TPU (or CPU worker) pipeline each plan makes, estimated
    summary_row(cpu ? "CPU latency" : "TPU latency", [&](const SplitPlan& p) {
      return fixed(time_plan(model, p, o.speed).latency_ms, 2) + " ms";
    });
    summary_row(cpu ? "CPU slowest" : "TPU slowest", [&](const SplitPlan& p) {
      const auto t = time_plan(model, p, o.speed);
      return fixed(t.bottleneck_ms, 2) + " ms (seg " + std::to_string(t.bottleneck_segment + 1) +
             ")";
    });
  }
  if (o.speed.memory_bytes) {
    summary_row("largest worker", [&](const SplitPlan& p) {
      const int64_t largest = largest_worker_bytes(model, p, o.speed);
      return format_size(largest) +
             (o.speed.memory_limit > 0 && largest > o.speed.memory_limit ? " !" : "");
    });
  }
  table.print(std::cout, "");
  for (const auto& out : outcomes) {
    if (!out.ok) std::cout << "\n" << out.name << ": " << out.error << "\n";
  }
  std::cout << "\n(! marks a segment outside the window"
            << (o.speed.memory_limit > 0 ? ", or a worker over --worker-memory" : "") << ")\n";
}

}  // namespace

void add_plan(CLI::App& app) {
  auto args = std::make_shared<PlanArgs>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "Compare the partitioning algorithms side by side (writes nothing)");
  cmd->add_option("model", args->model, ".tflite file, or .onnx (imported on the fly, see import)")
      ->required();
  cmd->add_option("--algorithms", args->algorithms,
                  "comma-separated: greedy, optimal, balanced, latency, throughput")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "print JSON instead of the table");
  cmd->add_flag("--granularity", args->granularity,
                "CPU workers on a network: per K = 1..--max-k the best split for throughput, its "
                "largest worker, slowest stage, latency and bytes on the wire; the knee marked");
  cmd->add_option("--svg", args->svg, "with --granularity: plot slowest stage and latency to FILE");
  add_split_options(*cmd, args->split);
  cmd->callback([args] {
    if (!args->svg.empty() && !args->granularity) throw Error("--svg needs --granularity");
    resolve_split_args(args->split, args->granularity);
    SplitOptions options = to_split_options(args->split);
    if (!options.cuts.empty()) throw Error("plan: --cuts has nothing to compare; use split --cuts");
    const Model model = load_model_file(args->model);
    const Graph graph(model);
    if (args->granularity) {
      attach_speed_model(options, args->split, model);
      const Granularity table = plan_granularity(model, graph, options, args->split.max_k);
      if (!args->svg.empty()) {
        write_file_atomic(
            args->svg,
            granularity_svg(table, std::filesystem::path(model.origin()).filename().string() +
                                       ": " + network_target_text(args->split)));
      }
      if (args->json) {
        std::cout << granularity_json(model, table, args->split)
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
      } else {
        print_granularity(std::cout, model, table, args->split);
        if (!args->svg.empty()) std::cout << "wrote " << args->svg << "\n";
      }
      return;
    }
    attach_speed_model(options, args->split, model);  // each algorithm below sets its own
    std::string algorithms = args->algorithms;
    if (args->split.objective != "size") {
      if (("," + algorithms + ",").find("," + args->split.objective + ",") == std::string::npos)
        algorithms += "," + args->split.objective;
    }
    std::vector<Outcome> outcomes;
    std::stringstream list(algorithms);
    std::string name;
    while (std::getline(list, name, ',')) {
      Outcome out;
      options.algorithm = parse_algorithm(name);
      out.name = algorithm_name(options.algorithm);
      try {
        out.plan = plan_split(model, graph, options);
        out.ok = true;
      } catch (const Error& e) {
        out.error = e.what();
      }
      outcomes.push_back(std::move(out));
    }
    if (args->json) {
      nlohmann::ordered_json j = nlohmann::ordered_json::array();
      for (const auto& out : outcomes) {
        if (!out.ok) {
          j.push_back(nlohmann::ordered_json{{"method", out.name}, {"error", out.error}});
          continue;
        }
        auto entry = plan_json(model, out.plan);
        if (options.speed.segment_ms) {
          const auto t = time_plan(model, out.plan, options.speed);
          const bool cpu = args->split.target == "cpu";
          entry[cpu ? "network_estimate" : "edgetpu_estimate"] = {
              {"source", "estimated"},
              {"link", args->split.link},
              {"latency_ms", t.latency_ms},
              {"bottleneck_ms", t.bottleneck_ms},
              {"bottleneck_segment", t.bottleneck_segment + 1}};
          if (cpu && options.speed.memory_bytes) {
            entry["network_estimate"]["max_worker_bytes"] =
                largest_worker_bytes(model, out.plan, options.speed);
          }
        }
        j.push_back(entry);
      }
      std::cout << nlohmann::ordered_json{{"model", model.origin()}, {"plans", j}}.dump(
                       2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    } else {
      print_side_by_side(model, outcomes, options, args->split.target == "cpu");
    }
    bool any = false;
    for (const auto& out : outcomes) any = any || out.ok;
    if (!any) throw Error(args->model + ": no algorithm found a partition");
  });
}

}  // namespace pipecut::cli
