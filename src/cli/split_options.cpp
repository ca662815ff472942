#include "cli/split_options.h"

#include <sstream>

#include "pipecut/edgetpu_simulate.h"
#include "pipecut/error.h"
#include "pipecut/sizes.h"

namespace pipecut::cli {

void add_split_options(CLI::App& cmd, SplitArgs& args) {
  cmd.add_option("--max-size", args.max_size, "HIGH: largest segment (bytes or B/KiB/MiB/GiB)")
      ->capture_default_str();
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
  cmd.add_option("--target", args.target, "edgetpu: cuts must follow an Edge TPU op; cpu: any op")
      ->capture_default_str()
      ->check(CLI::IsMember({"edgetpu", "cpu"}));
  cmd.add_option("--objective", args.objective,
                 "size: segments in the window by size; latency or throughput: the cuts whose "
                 "estimated Edge TPU pipeline is fastest (exact)")
      ->capture_default_str()
      ->check(CLI::IsMember({"size", "latency", "throughput"}));
  cmd.add_option("--link", args.link,
                 "Edge TPU host link for the speed estimates: usb3, usb2, pcie")
      ->capture_default_str()
      ->check(CLI::IsMember({"usb3", "usb2", "pcie"}));
}

void attach_speed_model(SplitOptions& options, const SplitArgs& args, const Model& model) {
  if (args.objective != "size") {
    if (args.target != "edgetpu")
      throw Error("--objective " + args.objective + " needs --target edgetpu (its cost model)");
    options.algorithm = parse_algorithm(args.objective);
  }
  if (args.target == "edgetpu")
    options.speed = edgetpu_speed_model(model, edgetpu_device(args.link));
}

SplitOptions to_split_options(const SplitArgs& args) {
  SplitOptions o;
  o.high = parse_size(args.max_size, "--max-size");
  o.low = parse_size(args.min_size, "--min-size");
  if (o.high <= 0) throw Error("--max-size must be larger than 0");
  if (o.low > o.high) throw Error("--min-size is larger than --max-size");
  o.segments = args.segments;
  o.metric = parse_size_metric(args.size_metric);
  o.candidates.max_tensors = args.max_cut_tensors;
  o.candidates.require_edgetpu_op = args.target == "edgetpu";
  std::stringstream list(args.cuts);
  std::string name;
  while (std::getline(list, name, ',')) {
    if (!name.empty()) o.cuts.push_back(name);
  }
  return o;
}

}  // namespace pipecut::cli
