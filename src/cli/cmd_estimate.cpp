// pipecut estimate MODEL|TREE: what the Edge TPU compiler will cache and stream, which ops fall
// back to the CPU, and the latency of one invoke, without the compiler or a TPU.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/table.h"
#include "edgetpu/estimate_json.h"
#include "pipecut/edgetpu_estimate.h"
#include "pipecut/error.h"
#include "pipecut/sizes.h"
#include "pipecut/split_tree.h"

namespace pipecut::cli {

namespace {

struct EstimateArgs {
  std::string path;
  std::string link = "usb3";
  bool json = false;
};

struct Row {
  std::string folder, file;
  EdgeTpuEstimate estimate;
};

std::string mib(int64_t bytes) {
  return fixed(static_cast<double>(bytes) / (1024.0 * 1024.0), 2);
}

void print_table(const std::vector<Row>& rows) {
  Table table({"file", "params (TPU)", "on chip MiB", "off chip MiB", "streamed layers",
               "ops on CPU", "latency ms"},
              {false, true, true, true, true, true, true});
  for (const auto& r : rows) {
    const auto& e = r.estimate;
    table.add({r.folder.empty() ? r.file : r.folder + "/" + r.file, format_size(e.param_bytes),
               mib(e.on_chip_bytes), mib(e.off_chip_bytes), std::to_string(e.streamed.size()),
               std::to_string(e.ops_on_cpu), fixed(e.latency.total(), 2)});
  }
  table.print(std::cout);
}

void print_details(const EdgeTpuEstimate& e) {
  if (!e.streamed.empty()) {
    std::cout << "streamed from the host on every inference:";
    for (const auto& layer : e.streamed) std::cout << " " << layer;
    std::cout << "\n";
  }
  if (e.ops_on_tpu == 0 && !e.ops.empty()) {
    std::cout << "the Edge TPU can run none of its " << e.ops.size() << " ops (op 0 "
              << e.ops.front().type << ": " << e.ops.front().cpu_reason
              << "); an 8-bit model is needed\n";
    return;
  }
  int listed = 0;
  for (const auto& op : e.ops) {
    if (op.on_tpu) continue;
    if (++listed > 10) {
      std::cout << "... and " << e.ops_on_cpu - 10 << " more ops on the CPU (--json lists all)\n";
      break;
    }
    std::cout << "on the CPU: op " << op.op << " " << op.type << " (" << op.layer
              << "): " << op.cpu_reason << "\n";
  }
  const auto& l = e.latency;
  std::cout << "latency " << fixed(l.total(), 2) << " ms = invoke " << fixed(l.invoke, 2)
            << " + compute " << fixed(l.compute, 2) << " + streaming " << fixed(l.stream, 2)
            << " + input " << fixed(l.input, 2) << " + output " << fixed(l.output, 2) << " + CPU "
            << fixed(l.cpu, 2) << "\n";
}

}  // namespace

void add_estimate(CLI::App& app) {
  auto args = std::make_shared<EstimateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "estimate",
      "Estimate what the Edge TPU compiler caches on chip and streams off chip, which ops fall "
      "back to the CPU, and one invoke's latency (no compiler needed); on a tree, records it in "
      "each meta.json");
  cmd->add_option("path", args->path, ".tflite model or folder written by pipecut split")
      ->required();
  cmd->add_option("--link", args->link,
                  "host link: usb3 (the calibration host), usb3-coral (Coral's benchmark host), "
                  "usb2 or pcie")
      ->capture_default_str()
      ->check(CLI::IsMember(edgetpu_link_names()));
  cmd->add_flag("--json", args->json, "print the estimate as JSON");
  cmd->callback([args] {
    const EdgeTpuDevice device = edgetpu_device(args->link);
    std::vector<Row> rows;
    const bool is_tree = std::filesystem::is_directory(args->path);
    if (is_tree) {
      for (auto& f : estimate_split_tree(read_split_tree(args->path), device, args->link))
        rows.push_back({f.folder, f.file, std::move(f.estimate)});
    } else {
      rows.push_back({"", args->path, estimate_edgetpu(Model::load(args->path), device)});
    }
    if (args->json) {
      nlohmann::ordered_json files = nlohmann::ordered_json::array();
      for (const auto& r : rows) {
        auto entry = nlohmann::ordered_json{{"folder", r.folder}, {"file", r.file}};
        entry.update(estimate_json(r.estimate, args->link, !is_tree));
        files.push_back(entry);
      }
      std::cout << nlohmann::ordered_json{{"path", args->path}, {"files", files}}.dump(
                       2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
      return;
    }
    print_table(rows);
    if (!is_tree) print_details(rows.front().estimate);
    std::cout << "estimates (no compiler was run): rules and errors in docs/estimate.md";
    if (is_tree) std::cout << "; recorded as \"edgetpu_estimate\" in each meta.json";
    std::cout << "\n";
  });
}

}  // namespace pipecut::cli
