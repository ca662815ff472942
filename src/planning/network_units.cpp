// The network target's units as users write them: a link "BANDWIDTH,LATENCY" and its transfer time,
// and a compute rate "20GMAC/s".
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <utility>

#include "pipecut/error.h"
#include "pipecut/network_plan.h"

namespace pipecut {

namespace {

// A number and the unit that follows it, spaces around either ignored. False when no number.
bool split_number(std::string_view text, double& value, std::string& unit) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || !std::isfinite(value)) return false;
  std::string_view rest(end, static_cast<size_t>(text.data() + text.size() - end));
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  unit = std::string(rest);
  return true;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Bits per second for one unit of `unit`; 0 when unknown.
double bandwidth_unit(std::string unit) {
  static const std::pair<const char*, double> kBits[] = {
      {"bit", 1}, {"Kbit", 1e3}, {"kbit", 1e3}, {"Mbit", 1e6}, {"Gbit", 1e9}, {"Tbit", 1e12},
      {"bps", 1}, {"Kbps", 1e3}, {"kbps", 1e3}, {"Mbps", 1e6}, {"Gbps", 1e9}, {"Tbps", 1e12}};
  static const std::pair<const char*, double> kBytes[] = {
      {"B", 1},    {"KB", 1e3},     {"kB", 1e3},        {"MB", 1e6},
      {"GB", 1e9}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
  if (ends_with(unit, "/s")) unit.resize(unit.size() - 2);
  for (const auto& [name, bits] : kBits)
    if (unit == name) return bits;
  for (const auto& [name, bytes] : kBytes)
    if (unit == name) return 8 * bytes;
  return 0;
}

// Milliseconds for one unit of `unit`; negative when unknown.
double latency_unit(const std::string& unit) {
  if (unit == "s") return 1000;
  if (unit == "ms") return 1;
  if (unit == "us" || unit == "\xC2\xB5s") return 1e-3;
  if (unit == "ns") return 1e-6;
  return -1;
}

std::string trimmed_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

}  // namespace

double NetworkLink::transfer_ms(int64_t bytes) const {
  return latency_ms + static_cast<double>(bytes) * 8.0 / bits_per_second * 1000.0;
}

std::string NetworkLink::text() const {
  static const std::pair<const char*, double> kUnits[] = {
      {"Tbit/s", 1e12}, {"Gbit/s", 1e9}, {"Mbit/s", 1e6}, {"Kbit/s", 1e3}};
  std::string bandwidth = trimmed_number(bits_per_second) + " bit/s";
  for (const auto& [name, scale] : kUnits) {
    if (bits_per_second >= scale) {
      bandwidth = trimmed_number(bits_per_second / scale) + " " + name;
      break;
    }
  }
  return bandwidth + ", " + trimmed_number(latency_ms) + " ms";
}

NetworkLink parse_network_link(const std::string& text, const std::string& what) {
  const std::string example = " (e.g. 1Gbit,0.3ms or 100Mbit,1ms)";
  const size_t comma = text.find(',');
  if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos)
    throw Error(what + ": '" + text + "' is not BANDWIDTH,LATENCY" + example);
  double bandwidth = 0, latency = 0;
  std::string bandwidth_text, latency_text;
  if (!split_number(std::string_view(text).substr(0, comma), bandwidth, bandwidth_text))
    throw Error(what + ": '" + text + "': the bandwidth is not a number with a unit" + example);
  if (!split_number(std::string_view(text).substr(comma + 1), latency, latency_text))
    throw Error(what + ": '" + text + "': the latency is not a number with a unit" + example);
  const double bits = bandwidth_unit(bandwidth_text);
  if (bits == 0) {
    throw Error(what + ": '" + text + "': unknown bandwidth unit '" + bandwidth_text +
                "' (bit, Kbit, Mbit, Gbit, Tbit, or B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s)");
  }
  const double ms = latency_unit(latency_text);
  if (ms < 0) {
    throw Error(what + ": '" + text + "': unknown latency unit '" + latency_text +
                "' (s, ms, us, ns)");
  }
  if (bandwidth <= 0) throw Error(what + ": '" + text + "': the bandwidth must be above 0");
  if (latency < 0) throw Error(what + ": '" + text + "': the latency cannot be negative");
  NetworkLink link;
  link.bits_per_second = bandwidth * bits;
  link.latency_ms = latency * ms;
  return link;
}

double parse_mac_rate(const std::string& text, const std::string& what) {
  double value = 0;
  std::string unit;
  if (!split_number(text, value, unit))
    throw Error(what + ": '" + text + "' is not a rate like 20GMAC/s");
  double scale = 1;
  if (!unit.empty()) {
    static const std::pair<char, double> kPrefixes[] = {
        {'K', 1e3}, {'k', 1e3}, {'M', 1e6}, {'G', 1e9}, {'T', 1e12}};
    for (const auto& [prefix, factor] : kPrefixes) {
      if (unit.front() == prefix) {
        scale = factor;
        unit.erase(0, 1);
        break;
      }
    }
    if (unit != "MAC/s" && unit != "MACs/s" && unit != "MAC" && unit != "MACs")
      throw Error(what + ": '" + text + "' is not a rate like 20GMAC/s (K, M, G, T prefixes)");
  }
  if (value <= 0) throw Error(what + ": '" + text + "': the rate must be above 0");
  return value * scale;
}

}  // namespace pipecut
