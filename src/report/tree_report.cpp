// The HTML report of a split tree. Everything is built as text here: a page of tables, two inline
// SVG figures (segment sizes against the window; the simulated timeline), and each file's
// compile transcript folded in <details>.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "layout/meta_json.h"
#include "pipecut/edgetpu_estimate.h"
#include "pipecut/edgetpu_simulate.h"
#include "pipecut/error.h"
#include "pipecut/report.h"
#include "pipecut/sizes.h"
#include "util/xml_escape.h"

namespace pipecut {

namespace fs = std::filesystem;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::string num(double v, int digits) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
  return buffer;
}

std::string mib(int64_t bytes) {
  return num(static_cast<double>(bytes) / kMiB, 2);
}

// Read-only access that never throws on a missing key or a wrong type: meta.json files are
// user-editable, and a report shows what it can (a missing figure reads as 0 or empty).
const nlohmann::ordered_json& member(const nlohmann::ordered_json& object, const char* key) {
  static const nlohmann::ordered_json none;
  if (!object.is_object()) return none;
  const auto it = object.find(key);
  return it == object.end() ? none : *it;
}
int64_t int_of(const nlohmann::ordered_json& j) {
  return j.is_number_integer() ? j.get<int64_t>() : 0;
}
std::string str_of(const nlohmann::ordered_json& j, const std::string& fallback = "") {
  return j.is_string() ? j.get<std::string>() : fallback;
}
bool bool_of(const nlohmann::ordered_json& j) {
  return j.is_boolean() && j.get<bool>();
}

// The first `limit` bytes of a text file, or empty when it is missing.
std::string head_of(const fs::path& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string text(limit, '\0');
  in.read(text.data(), static_cast<std::streamsize>(limit));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() == limit) text += "\n... (cut here; the whole file is beside the model)";
  return text;
}

struct FileFacts {
  const TreeFile* file = nullptr;
  std::string rel;  // relative to its folder
  nlohmann::ordered_json meta;
  EdgeTpuEstimate estimate;
};

// The size chart: full_split's segments as bars against the window's lines.
std::string sizes_svg(const std::vector<FileFacts>& full, int64_t low, int64_t high) {
  constexpr double kLeft = 60, kTop = 20, kHeight = 180, kBar = 46, kGap = 14;
  int64_t top = high;
  for (const auto& f : full) top = std::max<int64_t>(top, int_of(member(f.meta, "param_bytes")));
  top = static_cast<int64_t>(std::min(9e18, static_cast<double>(top) * 1.1)) + 1;
  const double width = kLeft + static_cast<double>(full.size()) * (kBar + kGap) + 120;
  const auto y = [&](int64_t bytes) {
    return kTop + kHeight - kHeight * static_cast<double>(bytes) / static_cast<double>(top);
  };
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width, 0) << "\" height=\""
      << num(kTop + kHeight + 40, 0) << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  for (int i = 0; i <= 4; ++i) {
    const int64_t v = top * i / 4;
    svg << "<text x=\"" << num(kLeft - 6, 0) << "\" y=\"" << num(y(v) + 4, 1)
        << "\" text-anchor=\"end\">" << mib(v) << "</text>\n";
  }
  double x = kLeft;
  for (const auto& f : full) {
    const int64_t bytes = int_of(member(f.meta, "param_bytes"));
    const bool streams = f.estimate.off_chip_bytes > 0;
    svg << "<rect x=\"" << num(x, 1) << "\" y=\"" << num(y(bytes), 1) << "\" width=\"" << kBar
        << "\" height=\"" << num(kTop + kHeight - y(bytes), 1) << "\" fill=\""
        << (streams ? "#e15759" : "#4e79a7") << "\"><title>" << xml_escape(f.rel) << ": "
        << format_size(bytes) << (streams ? ", streams weights" : "") << "</title></rect>\n";
    svg << "<text x=\"" << num(x + kBar / 2, 1) << "\" y=\"" << num(kTop + kHeight + 14, 1)
        << "\" text-anchor=\"middle\">seg" << f.file->first_segment << "</text>\n";
    x += kBar + kGap;
  }
  const auto line = [&](int64_t bytes, const std::string& label, const char* colour) {
    svg << "<line x1=\"" << kLeft << "\" x2=\"" << num(x, 1) << "\" y1=\"" << num(y(bytes), 1)
        << "\" y2=\"" << num(y(bytes), 1) << "\" stroke=\"" << colour
        << "\" stroke-dasharray=\"5,3\"/>\n<text x=\"" << num(x + 4, 1) << "\" y=\""
        << num(y(bytes) + 4, 1) << "\">" << xml_escape(label) << "</text>\n";
  };
  line(high, "HIGH " + format_size(high), "#333");
  if (low > 0) line(low, "LOW " + format_size(low), "#888");
  svg << "<text x=\"" << kLeft << "\" y=\"" << num(kTop + kHeight + 32, 1)
      << "\">parameter MiB per segment; red: the Edge TPU would stream weights "
         "(estimated)</text>\n";
  svg << "</svg>\n";
  return svg.str();
}

std::string compile_cell(const nlohmann::ordered_json& meta) {
  if (!member(meta, "edgetpu").is_object()) return "<td class=\"muted\">not compiled</td>";
  const auto& e = member(meta, "edgetpu");
  if (bool_of(member(e, "ok"))) return "<td class=\"ok\">compiled</td>";
  return "<td class=\"bad\">FAILED: " + xml_escape(str_of(member(e, "failure"), "unknown")) +
         "</td>";
}

}  // namespace

std::string tree_report_html(const SplitTree& tree, const ReportOptions& options) {
  const EdgeTpuDevice device = edgetpu_device(options.link);
  const auto top = read_meta_file(tree.dir / "full_split" / "meta.json");
  const auto estimates = estimate_split_tree(tree, device, options.link, false);
  size_t next_estimate = 0;  // they come in the tree's order
  std::vector<std::pair<std::string, std::vector<FileFacts>>> folders;
  for (const auto& folder : tree.folders) {
    const auto meta = read_meta_file(tree.dir / folder.name / "meta.json");
    std::vector<FileFacts> facts;
    for (const auto& file : folder.files) {
      FileFacts f;
      f.file = &file;
      f.rel = file.path.lexically_relative(tree.dir / folder.name).generic_string();
      const auto& entries = member(meta, "files");
      if (entries.is_array())
        for (const auto& entry : entries)
          if (str_of(member(entry, "file")) == f.rel) f.meta = entry;
      if (!f.meta.is_object()) {
        throw Error((tree.dir / folder.name / "meta.json").string() + ": does not list " + f.rel);
      }
      f.estimate = estimates.at(next_estimate++).estimate;
      facts.push_back(std::move(f));
    }
    folders.emplace_back(folder.name, std::move(facts));
  }

  const auto& plan = member(top, "plan");
  const int64_t low = int_of(member(member(plan, "window"), "low"));
  const int64_t high = int_of(member(member(plan, "window"), "high"));
  const std::string source = str_of(member(member(top, "source"), "path"), "?");

  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>pipecut "
          "report: "
       << xml_escape(fs::path(source).filename().string()) << "</title>\n<style>\n"
       << "body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}"
          "table{border-collapse:collapse;margin:8px 0 20px}"
          "th,td{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}"
          "td.n{text-align:right}th{background:#f3f3f3}.ok{color:#2a7a2a}.bad{color:#b00020}"
          ".muted{color:#888}.streams{color:#b00020;font-weight:bold}"
          "pre{background:#f7f7f7;padding:8px;font-size:12px;overflow-x:auto}"
          "h2{margin-top:28px}\n"
       << "</style>\n</head>\n<body>\n";
  html << "<h1>pipecut report</h1>\n<p>Source <code>" << xml_escape(source) << "</code> ("
       << xml_escape(tree.source_hash.substr(0, 25)) << "...), split by "
       << xml_escape(str_of(member(plan, "method"), "?")) << " into "
       << int_of(member(plan, "segments")) << " segments, window " << xml_escape(format_size(low))
       << " .. " << xml_escape(format_size(high)) << " ("
       << xml_escape(str_of(member(plan, "size_metric"))) << "). Tree <code>"
       << xml_escape(tree.dir.string()) << "</code>.</p>\n";

  html << "<h2>Segments against the window</h2>\n" << sizes_svg(folders.front().second, low, high);

  html << "<h2>Edge TPU pipeline (simulated, " << xml_escape(options.link) << ")</h2>\n"
       << "<p>Each folder as users run it: one file per TPU, frames streamed through "
          "(docs/simulate.md). Estimates, not measurements.</p>\n<table>\n<tr><th>folder</th>"
          "<th>files</th><th>latency ms</th><th>frames/s</th><th>bottleneck</th></tr>\n";
  std::string timeline;
  for (const auto& [name, facts] : folders) {
    std::vector<PipelineStageInput> stages;
    for (const auto& f : facts) stages.push_back({f.file->path.filename().string(), f.estimate});
    SimulationOptions sim_options;
    sim_options.frames = options.frames;
    const auto sim = simulate_pipeline(stages, device, sim_options);
    html << "<tr><td>" << xml_escape(name) << "</td><td class=\"n\">" << facts.size()
         << "</td><td class=\"n\">" << num(sim.latency_ms, 2) << "</td><td class=\"n\">"
         << num(sim.throughput_fps, 1) << "</td><td>"
         << xml_escape(sim.stages[static_cast<size_t>(sim.bottleneck)].name) << "</td></tr>\n";
    if (timeline.empty()) timeline = timeline_svg(sim, name + " (" + options.link + ", estimated)");
  }
  html << "</table>\n" << timeline;
  html << "<h2>Files</h2>\n<p>On-chip and off-chip parameters are the compiler's report where "
          "<code>pipecut compile</code> ran, otherwise the estimate (column <i>source</i>).</p>\n";
  for (const auto& [name, facts] : folders) {
    html << "<h3>" << xml_escape(name)
         << "</h3>\n<table>\n<tr><th>file</th><th>role</th><th>ops</th>"
            "<th>params</th><th>file size</th><th>on chip MiB</th><th>off chip MiB</th>"
            "<th>source</th><th>ops on CPU</th><th>est. ms</th><th>compile</th></tr>\n";
    for (const auto& f : facts) {
      int64_t on = f.estimate.on_chip_bytes, off = f.estimate.off_chip_bytes;
      std::string source_label = "estimated";
      const auto& compiled = member(f.meta, "edgetpu");
      if (bool_of(member(compiled, "ok"))) {
        const auto& r = member(compiled, "report");
        if (member(r, "on_chip_used_bytes").is_number_integer() &&
            member(r, "off_chip_used_bytes").is_number_integer()) {
          on = int_of(member(r, "on_chip_used_bytes"));
          off = int_of(member(r, "off_chip_used_bytes"));
          source_label = "compiled";
        }
      }
      const auto& ops = member(f.meta, "ops");
      html << "<tr><td>" << xml_escape(f.rel) << "</td><td>" << xml_escape(f.file->role)
           << "</td><td class=\"n\">" << int_of(member(ops, "first")) << ".."
           << int_of(member(ops, "last")) << "</td><td class=\"n\">"
           << xml_escape(format_size(int_of(member(f.meta, "param_bytes"))))
           << "</td><td class=\"n\">"
           << xml_escape(format_size(int_of(member(f.meta, "file_bytes"))))
           << "</td><td class=\"n\">" << mib(on) << "</td><td class=\"n"
           << (off > 0 ? " streams" : "") << "\">" << mib(off) << "</td><td>" << source_label
           << "</td><td class=\"n\">" << f.estimate.ops_on_cpu << "</td><td class=\"n\">"
           << num(f.estimate.latency.total(), 2) << "</td>" << compile_cell(f.meta) << "</tr>\n";
    }
    html << "</table>\n";
    for (const auto& f : facts) {
      const std::string transcript = str_of(member(member(f.meta, "edgetpu"), "transcript"));
      // Only the folder's own tpu/ files, whatever an edited meta.json says.
      if (transcript.rfind("tpu/", 0) != 0 || transcript.find("..") != std::string::npos) continue;
      const std::string text = head_of(tree.dir / name / transcript, 64 * 1024);
      html << "<details><summary>" << xml_escape(name + "/" + transcript) << "</summary><pre>"
           << xml_escape(text) << "</pre></details>\n";
    }
  }

  html << "<p class=\"muted\">Written by " << xml_escape(str_of(member(top, "tool"), "pipecut"))
       << ".</p>\n</body>\n</html>\n";
  return html.str();
}

}  // namespace pipecut
