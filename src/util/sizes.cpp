#include "pipecut/sizes.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "pipecut/error.h"

namespace pipecut {

int64_t parse_size(const std::string& text, const std::string& what) {
  const auto fail = [&] {
    return Error(what + ": '" + text + "' is not a size (use bytes or a unit: B, KiB, MiB, GiB)");
  };
  size_t pos = 0;
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  const size_t number_start = pos;
  while (pos < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.')) {
    ++pos;
  }
  if (pos == number_start) throw fail();
  double value = 0;
  try {
    value = std::stod(text.substr(number_start, pos - number_start));
  } catch (...) {
    throw fail();
  }
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  std::string unit;
  for (; pos < text.size(); ++pos) {
    if (std::isspace(static_cast<unsigned char>(text[pos]))) break;
    unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(text[pos]))));
  }
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  if (pos != text.size()) throw fail();
  double factor = 0;
  if (unit.empty() || unit == "b")
    factor = 1;
  else if (unit == "kib" || unit == "k")
    factor = 1024.0;
  else if (unit == "mib" || unit == "m")
    factor = 1024.0 * 1024;
  else if (unit == "gib" || unit == "g")
    factor = 1024.0 * 1024 * 1024;
  else if (unit == "kb")
    factor = 1e3;
  else if (unit == "mb")
    factor = 1e6;
  else if (unit == "gb")
    factor = 1e9;
  else
    throw fail();
  const double bytes = std::round(value * factor);
  if (!std::isfinite(bytes) || bytes > 9.0e18) throw fail();
  if (factor == 1 && value != std::floor(value)) throw fail();
  return static_cast<int64_t>(bytes);
}

std::string format_size(int64_t bytes) {
  char buf[64];
  const double b = static_cast<double>(bytes);
  const int64_t magnitude = bytes < 0 ? -bytes : bytes;
  if (magnitude < 1024) {
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  } else if (magnitude < 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  } else if (magnitude < int64_t{1024} * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.2f MiB", b / (1024.0 * 1024));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
  }
  return buf;
}

std::string format_count(int64_t n) {
  char buf[32];
  // Each unit from where the one below would print "1000": 999,950 is "1.0 M", not "1000 K".
  if (n >= 999'995'000)
    std::snprintf(buf, sizeof buf, "%.2f G", static_cast<double>(n) / 1e9);
  else if (n >= 999'500)
    std::snprintf(buf, sizeof buf, "%.1f M", static_cast<double>(n) / 1e6);
  else if (n >= 1'000)
    std::snprintf(buf, sizeof buf, "%.0f K", static_cast<double>(n) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  return buf;
}

}  // namespace pipecut
