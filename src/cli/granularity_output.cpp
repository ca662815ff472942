#include "cli/granularity_output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "cli/table.h"
#include "pipecut/analysis.h"
#include "pipecut/sizes.h"
#include "util/xml_escape.h"

namespace pipecut::cli {

namespace {

double fps(double ms) {
  return ms > 0 ? 1000.0 / ms : 0.0;
}

std::string cut_names(const Model& model, const SplitPlan& plan) {
  std::string names;
  for (const auto& tensors : plan.cut_tensors) {
    names += names.empty() ? "" : ",";
    names += short_tensor_name(model.tensor(tensors.front()).name);
    if (tensors.size() > 1) names += "+" + std::to_string(tensors.size() - 1);
  }
  return names;
}

std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

}  // namespace

void print_granularity(std::ostream& out, const Model& model, const Granularity& table,
                       const SplitArgs& args) {
  out << "model: " << model.origin() << "\nCPU workers: " << network_target_text(args) << "\n"
      << table.usable_cuts << " usable cuts; per K the split with the least slowest stage:\n\n";
  Table t({"K", "largest worker", "slowest stage", "frames/s", "latency", "on the wire", ""},
          {true, true, true, true, true, true, false});
  for (size_t i = 0; i < table.rows.size(); ++i) {
    const GranularityRow& row = table.rows[i];
    t.add({std::to_string(row.segments),
           format_size(row.max_worker_bytes) + (row.feasible ? "  " : " !"),
           fixed(row.timing.bottleneck_ms, 2) + " ms (seg " +
               std::to_string(row.timing.bottleneck_segment + 1) + ")",
           fixed(fps(row.timing.bottleneck_ms), 1), fixed(row.timing.latency_ms, 2) + " ms",
           format_size(row.wire_bytes), static_cast<int>(i) == table.knee ? "<- knee" : ""});
  }
  t.print(out, "");
  out << "\n";
  bool any_over = false;
  for (const auto& row : table.rows) any_over = any_over || !row.feasible;
  if (any_over) {
    out << "! over --worker-memory " << format_size(parse_size(args.worker_memory))
        << ": no split into that many segments fits; the row shows the best one ignoring it\n";
  }
  if (table.knee >= 0) {
    double best = 0;
    int best_k = 0;
    for (const auto& row : table.rows) {
      if (row.feasible && (best_k == 0 || row.timing.bottleneck_ms < best)) {
        best = row.timing.bottleneck_ms;
        best_k = row.segments;
      }
    }
    const GranularityRow& knee = table.rows[static_cast<size_t>(table.knee)];
    out << "knee: K = " << knee.segments
        << ", the fewest segments whose slowest stage is within 5 % of the best (" << fixed(best, 2)
        << " ms at K = " << best_k << "); cuts " << cut_names(model, knee.plan) << "\n";
  } else {
    out << "no K up to " << table.rows.back().segments
        << " keeps every worker within --worker-memory\n";
  }
}

nlohmann::ordered_json granularity_json(const Model& model, const Granularity& table,
                                        const SplitArgs& args) {
  const NetworkLink link = parse_network_link(args.link);
  nlohmann::ordered_json target = {
      {"compute", args.costs.empty() ? "mac_rate" : "measured"},
      {"mac_rate_macs_per_s", args.mac_rate.empty() ? 0.0 : parse_mac_rate(args.mac_rate)},
      {"costs_file", args.costs},
      {"link",
       {{"text", args.link},
        {"bits_per_second", link.bits_per_second},
        {"latency_ms", link.latency_ms}}},
      {"worker_memory_bytes",
       args.worker_memory.empty() ? int64_t{0} : parse_size(args.worker_memory)}};
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (size_t i = 0; i < table.rows.size(); ++i) {
    const GranularityRow& row = table.rows[i];
    nlohmann::ordered_json cuts = nlohmann::ordered_json::array();
    for (const auto& tensors : row.plan.cut_tensors) {
      nlohmann::ordered_json names = nlohmann::ordered_json::array();
      for (int t : tensors) names.push_back(model.tensor(t).name);
      cuts.push_back(names);
    }
    rows.push_back({{"segments", row.segments},
                    {"feasible", row.feasible},
                    {"knee", static_cast<int>(i) == table.knee},
                    {"max_worker_bytes", row.max_worker_bytes},
                    {"worker_bytes", row.worker_bytes},
                    {"segment_param_bytes", row.plan.sizes},
                    {"slowest_stage_ms", row.timing.bottleneck_ms},
                    {"slowest_segment", row.timing.bottleneck_segment + 1},
                    {"frames_per_second", fps(row.timing.bottleneck_ms)},
                    {"latency_ms", row.timing.latency_ms},
                    {"wire_bytes", row.wire_bytes},
                    {"cuts", cuts}});
  }
  return {
      {"model", model.origin()},
      {"target", target},
      {"usable_cuts", table.usable_cuts},
      {"knee_tolerance", kKneeTolerance},
      {"knee_segments", table.knee >= 0 ? table.rows[static_cast<size_t>(table.knee)].segments : 0},
      {"rows", rows}};
}

namespace {

std::string tick(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", v);
  return buffer;
}

// One panel: `value` of every row against K, on its own scale from 0; rows over the worker
// memory hollow, the knee a dashed line.
void panel(std::ostringstream& svg, const Granularity& table, double top_y, const char* name,
           const char* colour, double (*value)(const GranularityRow&)) {
  constexpr double kLeft = 70, kWidth = 560, kHeight = 150;
  int last_k = 1;
  double top = 0;
  for (const auto& row : table.rows) {
    top = std::max(top, value(row));
    last_k = std::max(last_k, row.segments);
  }
  if (top <= 0) top = 1;
  // A round scale: 1, 2 or 5 times a power of ten per tick, five ticks or fewer.
  const double raw = top / 5;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double step = raw <= power       ? power
                      : raw <= 2 * power ? 2 * power
                      : raw <= 5 * power ? 5 * power
                                         : 10 * power;
  const double y_max = std::ceil(top / step - 1e-9) * step;
  const auto x_of = [&](int k) {
    return kLeft + (last_k == 1 ? kWidth / 2 : kWidth * (k - 1) / (last_k - 1));
  };
  const auto y_of = [&](double ms) { return top_y + kHeight - kHeight * ms / y_max; };
  for (int i = 0; i * step <= y_max + step / 2; ++i) {
    const double v = i * step;
    svg << "<line x1=\"" << num(kLeft) << "\" x2=\"" << num(kLeft + kWidth) << "\" y1=\""
        << num(y_of(v)) << "\" y2=\"" << num(y_of(v)) << "\" stroke=\"#ddd\"/>\n";
    svg << "<text x=\"" << num(kLeft - 6) << "\" y=\"" << num(y_of(v) + 4)
        << "\" text-anchor=\"end\">" << tick(v) << "</text>\n";
  }
  svg << "<text x=\"" << num(kLeft + 6) << "\" y=\"" << num(top_y - 6) << "\" fill=\"" << colour
      << "\" font-weight=\"bold\">" << name << " (ms)</text>\n";
  for (const auto& row : table.rows) {
    svg << "<text x=\"" << num(x_of(row.segments)) << "\" y=\"" << num(top_y + kHeight + 14)
        << "\" text-anchor=\"middle\">" << row.segments << "</text>\n";
  }
  if (table.knee >= 0) {
    const double x = x_of(table.rows[static_cast<size_t>(table.knee)].segments);
    svg << "<line x1=\"" << num(x) << "\" x2=\"" << num(x) << "\" y1=\"" << num(top_y) << "\" y2=\""
        << num(top_y + kHeight) << "\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n";
    svg << "<text x=\"" << num(x + 4) << "\" y=\"" << num(top_y + 10) << "\">knee</text>\n";
  }
  svg << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"2\" points=\"";
  for (const auto& row : table.rows)
    svg << num(x_of(row.segments)) << "," << num(y_of(value(row))) << " ";
  svg << "\"/>\n";
  for (const auto& row : table.rows) {
    svg << "<circle cx=\"" << num(x_of(row.segments)) << "\" cy=\"" << num(y_of(value(row)))
        << "\" r=\"4\" stroke=\"" << colour << "\" fill=\"" << (row.feasible ? colour : "white")
        << "\"><title>K = " << row.segments << ": " << name << " " << tick(value(row)) << " ms"
        << (row.feasible ? "" : ", over the worker memory") << "</title></circle>\n";
  }
}

}  // namespace

std::string granularity_svg(const Granularity& table, const std::string& title) {
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"660\" height=\"470\" "
         "font-family=\"sans-serif\" font-size=\"11\">\n";
  svg << "<text x=\"10\" y=\"18\" font-size=\"13\">" << xml_escape(title) << "</text>\n";
  svg << "<text x=\"10\" y=\"34\">per number of segments K, the split with the least slowest "
         "stage; hollow: no such split fits the worker memory</text>\n";
  panel(svg, table, 70, "slowest stage", "#4e79a7",
        [](const GranularityRow& r) { return r.timing.bottleneck_ms; });
  panel(svg, table, 270, "latency", "#f28e2b",
        [](const GranularityRow& r) { return r.timing.latency_ms; });
  svg << "<text x=\"350\" y=\"460\" text-anchor=\"middle\">K (segments, one worker "
         "each)</text>\n</svg>\n";
  return svg.str();
}

}  // namespace pipecut::cli
