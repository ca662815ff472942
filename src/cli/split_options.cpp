#include "cli/split_options.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "pipecut/edgetpu_estimate.h"
#include "pipecut/edgetpu_simulate.h"
#include "pipecut/error.h"
#include "pipecut/network_plan.h"
#include "pipecut/sizes.h"

namespace pipecut::cli {

namespace {

bool edgetpu_link_name(const std::string& link) {
  const auto names = edgetpu_link_names();
  return std::find(names.begin(), names.end(), link) != names.end();
}

}  // namespace

void add_split_options(CLI::App& cmd, SplitArgs& args) {
  cmd.add_option("--max-size", args.max_size,
                 "HIGH: largest segment (bytes or B/KiB/MiB/GiB); default 7MiB, or none for CPU "
                 "workers planned for speed (--worker-memory bounds them)");
  cmd.add_option("--min-size", args.min_size, "LOW: smallest segment")->capture_default_str();
  cmd.add_option("--segments", args.segments,
                 "K: number of segments (default: the fewest feasible)")
      ->check(CLI::Range(0, 100000));
  cmd.add_option("--cuts", args.cuts, "cut at these tensors (comma-separated names), no search");
  cmd.add_option("--size-metric", args.size_metric,
                 "params: weight and bias bytes; file: serialized size")
      ->capture_default_str()
      ->check(CLI::IsMember({"params", "file"}));
  cmd.add_option("--max-cut-tensors", args.max_cut_tensors,
                 "allow cuts where up to N activations cross (branchy nets)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd.add_option("--target", args.target,
                 "edgetpu (default): cuts must follow an Edge TPU op; cpu: any op, and the speed "
                 "objectives plan CPU workers on a network")
      ->check(CLI::IsMember({"edgetpu", "cpu"}));
  cmd.add_option("--objective", args.objective,
                 "size: segments in the window by size; latency or throughput: the cuts whose "
                 "estimated pipeline (Edge TPUs, or CPU workers with --target cpu) is fastest "
                 "(exact)")
      ->capture_default_str()
      ->check(CLI::IsMember({"size", "latency", "throughput"}));
  cmd.add_option(
      "--link", args.link,
      "edgetpu: the host link, usb3 (default), usb3-coral, usb2, pcie; cpu: the network between "
      "workers, BANDWIDTH,LATENCY (default 1Gbit,0.3ms; e.g. 100Mbit,1ms)");
  cmd.add_option("--costs", args.costs,
                 "cpu: per-op times measured on the worker, the JSON of `pipecut run MODEL "
                 "--profile --json`");
  cmd.add_option("--mac-rate", args.mac_rate,
                 "cpu: per-op times from multiply-accumulates at this rate (e.g. 20GMAC/s)");
  cmd.add_option("--worker-memory", args.worker_memory,
                 "cpu: memory of one worker, its segment's weights plus activation arena (e.g. "
                 "256MiB); larger segments are infeasible");
  cmd.add_option("--max-k", args.max_k,
                 "cpu: the most segments considered (plan --granularity; split --objective "
                 "throughput without --segments takes the knee of K = 1..N)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
}

void resolve_split_args(SplitArgs& args, bool granularity) {
  if (args.target.empty()) args.target = granularity ? "cpu" : "edgetpu";
  const bool cpu = args.target == "cpu";
  if (granularity && !cpu) {
    throw Error("--granularity plans CPU workers on a network; it takes --target cpu, not edgetpu");
  }
  if (granularity) args.objective = "throughput";  // the table's rows are throughput plans
  if (!cpu) {
    for (const auto& [value, name] :
         {std::pair{&args.costs, "--costs"}, std::pair{&args.mac_rate, "--mac-rate"},
          std::pair{&args.worker_memory, "--worker-memory"}}) {
      if (!value->empty()) throw Error(std::string(name) + " is for CPU workers: add --target cpu");
    }
  }
  if (args.link.empty()) args.link = cpu ? "1Gbit,0.3ms" : "usb3";
  if (cpu && edgetpu_link_name(args.link)) {
    throw Error("--link: " + args.link +
                " is an Edge TPU host link; with --target cpu give BANDWIDTH,LATENCY (e.g. "
                "1Gbit,0.3ms)");
  }
  if (!cpu && !edgetpu_link_name(args.link)) {
    throw Error(
        "--link: '" + args.link +
        "' is not an Edge TPU host link (usb3, usb3-coral, usb2, pcie); BANDWIDTH,LATENCY needs "
        "--target cpu");
  }
  if (cpu) parse_network_link(args.link);  // refuses a bad one now, before the model loads
  if (!args.costs.empty() && !args.mac_rate.empty())
    throw Error("give --costs or --mac-rate, not both");
  if (!args.mac_rate.empty()) parse_mac_rate(args.mac_rate);
  if (!args.worker_memory.empty() && parse_size(args.worker_memory, "--worker-memory") <= 0)
    throw Error("--worker-memory must be larger than 0");
  const bool for_speed = granularity || args.objective != "size";
  if (cpu && for_speed && args.costs.empty() && args.mac_rate.empty()) {
    throw Error(std::string(granularity ? "--granularity" : "--objective " + args.objective) +
                " with --target cpu needs the ops' cost: --costs FILE (from pipecut run MODEL "
                "--profile --json) or --mac-rate RATE (e.g. 20GMAC/s)");
  }
}

void attach_speed_model(SplitOptions& options, const SplitArgs& args, const Model& model) {
  if (args.objective != "size") {
    options.algorithm = parse_algorithm(args.objective);
    if (args.target == "cpu" && options.algorithm == Algorithm::kThroughput)
      options.max_segments = args.max_k;
  }
  if (args.target == "edgetpu") {
    options.speed = edgetpu_speed_model(model, edgetpu_device(args.link));
    return;
  }
  if (args.max_size.empty() && args.objective != "size") {  // no window: the memory bounds
    const auto sizes = op_sizes(model, options.metric);
    options.high = std::max<int64_t>(1, std::accumulate(sizes.begin(), sizes.end(), int64_t{0}));
  }
  if (args.costs.empty() && args.mac_rate.empty()) return;  // plan by size only
  NetworkTarget target;
  target.op_ms = args.costs.empty() ? op_ms_from_macs(model, parse_mac_rate(args.mac_rate))
                                    : read_op_costs(args.costs, model);
  target.link = parse_network_link(args.link);
  if (!args.worker_memory.empty())
    target.worker_memory = parse_size(args.worker_memory, "--worker-memory");
  options.speed = network_speed_model(model, Graph(model), target);
}

std::string network_target_text(const SplitArgs& args) {
  std::string text = args.costs.empty() ? "compute at " + args.mac_rate + " (from MACs)"
                                        : "compute measured (" + args.costs + ")";
  text += "; link " + parse_network_link(args.link).text();
  text += "; worker memory " + (args.worker_memory.empty()
                                    ? std::string("unlimited")
                                    : format_size(parse_size(args.worker_memory)));
  return text;
}

SplitOptions to_split_options(const SplitArgs& args) {
  SplitOptions o;
  o.high = parse_size(args.max_size.empty() ? "7MiB" : args.max_size, "--max-size");
  o.low = parse_size(args.min_size, "--min-size");
  if (o.high <= 0) throw Error("--max-size must be larger than 0");
  if (o.low > o.high) throw Error("--min-size is larger than --max-size");
  o.segments = args.segments;
  o.metric = parse_size_metric(args.size_metric);
  o.candidates.max_tensors = args.max_cut_tensors;
  o.candidates.require_edgetpu_op = args.target != "cpu";
  std::stringstream list(args.cuts);
  std::string name;
  while (std::getline(list, name, ',')) {
    if (!name.empty()) o.cuts.push_back(name);
  }
  return o;
}

}  // namespace pipecut::cli
