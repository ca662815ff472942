// qreport's SVG: divergence bars (left axis) and SQNR line (right axis) per layer.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "pipecut/quant_report.h"

namespace pipecut {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else if (static_cast<unsigned char>(c) < 0x20)
      out += ' ';  // control characters are not allowed in XML 1.0
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string quant_report_svg(const QuantReport& report, const std::string& title) {
  constexpr double kLeft = 70, kTop = 40, kHeight = 260, kRight = 70;
  const size_t n = std::max<size_t>(report.layers.size(), 1);
  const double step = std::clamp(900.0 / static_cast<double>(n), 6.0, 40.0);
  const double width = kLeft + step * static_cast<double>(n) + kRight;
  double max_div = 1e-9, max_sqnr = 1e-9;
  for (const auto& l : report.layers) {
    if (std::isfinite(l.divergence)) max_div = std::max(max_div, l.divergence);
    if (std::isfinite(l.sqnr_db)) max_sqnr = std::max(max_sqnr, l.sqnr_db);
  }
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width) << "\" height=\""
      << num(kTop + kHeight + 60) << "\" font-family=\"sans-serif\" font-size=\"11\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << num(kLeft) << "\" y=\"20\" font-size=\"13\">" << escaped(title)
      << "</text>\n";
  const double bottom = kTop + kHeight;
  svg << "<line x1=\"" << num(kLeft) << "\" y1=\"" << num(bottom) << "\" x2=\""
      << num(width - kRight) << "\" y2=\"" << num(bottom) << "\" stroke=\"#444\"/>\n";
  for (int k = 0; k <= 4; ++k) {  // axes: divergence left, SQNR right
    const double y = bottom - kHeight * k / 4.0;
    svg << "<text x=\"" << num(kLeft - 6) << "\" y=\"" << num(y + 4)
        << "\" text-anchor=\"end\" fill=\"#2a6fbb\">" << num(max_div * k / 4.0 * 1000)
        << "</text>\n"
        << "<text x=\"" << num(width - kRight + 6) << "\" y=\"" << num(y + 4)
        << "\" fill=\"#c0392b\">" << num(max_sqnr * k / 4.0) << "</text>\n";
  }
  svg << "<text x=\"10\" y=\"" << num(kTop - 8)
      << "\" fill=\"#2a6fbb\">divergence (millibits)</text>\n"
      << "<text x=\"" << num(width - kRight - 40) << "\" y=\"" << num(kTop - 8)
      << "\" fill=\"#c0392b\">SQNR (dB)</text>\n";
  std::string line;
  for (size_t i = 0; i < report.layers.size(); ++i) {
    const auto& l = report.layers[i];
    const double x = kLeft + step * static_cast<double>(i);
    const double h = std::isfinite(l.divergence) ? kHeight * l.divergence / max_div : 0;
    svg << "<rect x=\"" << num(x + 1) << "\" y=\"" << num(bottom - h) << "\" width=\""
        << num(step - 2) << "\" height=\"" << num(h) << "\" fill=\"#2a6fbb\"><title>"
        << escaped(l.name) << " (" << l.op_type << ")</title></rect>\n";
    if (!std::isnan(l.sqnr_db)) {  // an exact layer sits at the top, a -inf one at the bottom
      const double v = std::isinf(l.sqnr_db) ? (l.sqnr_db > 0 ? max_sqnr : 0) : l.sqnr_db;
      line += (line.empty() ? "" : " ") + num(x + step / 2) + "," +
              num(bottom - kHeight * std::clamp(v, 0.0, max_sqnr) / max_sqnr);
    }
  }
  if (!line.empty())
    svg << "<polyline points=\"" << line
        << "\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\"/>\n";
  svg << "<text x=\"" << num(kLeft) << "\" y=\"" << num(bottom + 20)
      << "\">layers with weights, in op order (" << report.layers.size() << ")</text>\n</svg>\n";
  return svg.str();
}

}  // namespace pipecut
