// The simulated pipeline as an SVG timeline: one lane per TPU, one box per invoke.
#include <algorithm>
#include <cstdio>
#include <sstream>

#include "pipecut/edgetpu_simulate.h"
#include "util/xml_escape.h"

namespace pipecut {

namespace {

std::string num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", v);
  return buffer;
}

}  // namespace

std::string timeline_svg(const PipelineSimulation& sim, const std::string& title) {
  constexpr double kLeft = 70, kTop = 40, kLane = 34, kWidth = 760;
  double end = 0;
  for (const auto& span : sim.timeline) end = std::max(end, span.end_ms);
  if (end <= 0) end = 1;
  const double scale = kWidth / end;
  const double height = kTop + kLane * sim.tpus + 40;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(kLeft + kWidth + 20)
      << "\" height=\"" << num(height) << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg << "<text x=\"" << num(kLeft) << "\" y=\"18\" font-size=\"13\">" << xml_escape(title)
      << "</text>\n";
  svg << "<text x=\"" << num(kLeft) << "\" y=\"32\">latency " << num(sim.latency_ms) << " ms, "
      << num(sim.throughput_fps) << " frames/s, bottleneck "
      << xml_escape(sim.stages[static_cast<size_t>(sim.bottleneck)].name) << "</text>\n";
  for (int t = 0; t < sim.tpus; ++t) {
    svg << "<text x=\"6\" y=\"" << num(kTop + kLane * t + 21) << "\">TPU " << t + 1 << "</text>\n";
    svg << "<line x1=\"" << num(kLeft) << "\" x2=\"" << num(kLeft + kWidth) << "\" y1=\""
        << num(kTop + kLane * t + kLane) << "\" y2=\"" << num(kTop + kLane * t + kLane)
        << "\" stroke=\"#ddd\"/>\n";
  }
  static const char* kColours[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                   "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};
  for (const auto& span : sim.timeline) {
    const double x = kLeft + span.start_ms * scale;
    const double w = std::max(0.5, (span.end_ms - span.start_ms) * scale);
    const double y = kTop + kLane * span.tpu + 4;
    svg << "<rect x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(w)
        << "\" height=\"" << num(kLane - 8) << "\" fill=\"" << kColours[span.frame % 8]
        << "\"><title>frame " << span.frame + 1 << ", "
        << xml_escape(sim.stages[static_cast<size_t>(span.stage)].name) << ": "
        << num(span.start_ms) << " to " << num(span.end_ms) << " ms</title></rect>\n";
  }
  const double axis_y = kTop + kLane * sim.tpus + 16;
  for (int i = 0; i <= 4; ++i) {
    const double ms = end * i / 4;
    svg << "<text x=\"" << num(kLeft + ms * scale) << "\" y=\"" << num(axis_y)
        << "\" text-anchor=\""
        << (i == 0   ? "start"
            : i == 4 ? "end"
                     : "middle")
        << "\">" << num(ms) << " ms</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace pipecut
