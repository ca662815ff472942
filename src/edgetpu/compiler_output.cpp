// Parsing what edgetpu_compiler prints (versions 2.0 to 16.0) and its operation log files.
// The text is line based: "Key: value" lines per model block, then an operator table whose
// columns are padded with spaces. Posted logs are often cut short, so nothing here assumes a
// line is present; what is missing is reported instead.
#include <charconv>
#include <cmath>
#include <string>

#include "pipecut/edgetpu_compiler.h"

namespace pipecut {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The value after "prefix" when the line starts with it.
std::optional<std::string_view> after(std::string_view line, std::string_view prefix) {
  if (!starts_with(line, prefix)) return std::nullopt;
  return trim(line.substr(prefix.size()));
}

std::optional<int> parse_int(std::string_view s) {
  s = trim(s);
  int value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value < 0) return std::nullopt;
  return value;
}

// Sentences the compiler prints whole; one that is a strict prefix of these at the end of the
// text was cut mid-line.
constexpr std::string_view kKnownSentences[] = {
    "See the operation log file for individual operation details.",
    "Compilation child process completed within timeout period.",
    "Model successfully compiled but not all operations are supported by the Edge TPU.",
};

// Splits "OP   COUNT   STATUS..." at runs of spaces: the op and count never contain spaces.
std::optional<CompilerOperator> parse_operator_row(std::string_view line) {
  line = trim(line);
  const size_t op_end = line.find(' ');
  if (op_end == std::string_view::npos) return std::nullopt;
  CompilerOperator row;
  row.op = std::string(line.substr(0, op_end));
  std::string_view rest = trim(line.substr(op_end));
  const size_t count_end = rest.find(' ');
  if (count_end == std::string_view::npos) return std::nullopt;
  const auto count = parse_int(rest.substr(0, count_end));
  if (!count) return std::nullopt;
  row.count = *count;
  row.status = std::string(trim(rest.substr(count_end)));
  if (row.status.empty()) return std::nullopt;
  return row;
}

bool looks_like_op_name(std::string_view word) {
  if (word.empty()) return false;
  for (char c : word)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

class Parser {
 public:
  CompilerOutput run(std::string_view text) {
    const bool ends_with_newline = !text.empty() && text.back() == '\n';
    std::string_view last_line;
    while (!text.empty()) {
      const size_t end = text.find('\n');
      const std::string_view raw = text.substr(0, end);
      text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
      last_line = trim(raw);
      line(last_line);
    }
    finish_model();
    if (in_table_ && table_rows_ == 0) gap("the operator table has a header but no rows");
    if (timers_open_ > 0) gap("a compilation started but its end is missing");
    if (attempt_open_) gap("an attempt to compile a segment has no outcome");
    if (!last_line.empty()) {
      for (std::string_view sentence : kKnownSentences) {
        if (last_line.size() < sentence.size() && starts_with(sentence, last_line)) {
          gap("the last line is cut short: '" + std::string(last_line) + "'");
          break;
        }
      }
      if (!ends_with_newline && out_.complete) gap("the text ends without a newline");
    }
    return std::move(out_);
  }

 private:
  void gap(std::string what) {
    out_.complete = false;
    out_.gaps.push_back(std::move(what));
  }

  CompiledModelReport& model() {
    if (!current_) {
      out_.models.emplace_back();
      current_ = true;
    }
    return out_.models.back();
  }

  void finish_model() {
    if (!current_) return;
    auto& m = out_.models.back();
    const bool has_on_chip_room = m.on_chip_remaining || m.on_chip_available;
    // An operation log has no memory figures: its table is the whole of it.
    m.complete = operation_log_block_ ? !m.operators.empty() && !cut_row_in_model_
                                      : m.on_chip_used && has_on_chip_room && m.off_chip_used &&
                                            m.subgraphs && m.total_ops && !cut_row_in_model_;
    if (!m.complete) {
      gap("model '" + (m.input_model.empty() ? m.output_model : m.input_model) +
          "' lacks some of the compiler's figures");
    }
    current_ = false;
    cut_row_in_model_ = false;
  }

  // Sets a size figure; an unreadable value is a gap, not a crash.
  void size_field(std::optional<int64_t>& field, std::string_view value, std::string_view key) {
    field = parse_compiler_size(value);
    if (!field) gap("unreadable " + std::string(key) + ": '" + std::string(value) + "'");
  }
  void int_field(std::optional<int>& field, std::string_view value, std::string_view key) {
    field = parse_int(value);
    if (!field) gap("unreadable " + std::string(key) + ": '" + std::string(value) + "'");
  }

  void line(std::string_view l) {
    if (l.empty()) return;
    if (auto v = after(l, "Edge TPU Compiler version")) {
      out_.version = std::string(*v);
      return;
    }
    if (starts_with(l, "Model compiled successfully") ||
        starts_with(l, "Models compiled successfully") || starts_with(l, "Compilation succeeded")) {
      out_.compiled = true;
      attempt_open_ = false;
      return;
    }
    if (starts_with(l, "Compilation failed!")) {
      attempt_open_ = false;
      return;
    }
    if (starts_with(l, "Try to compile segment")) {  // the delegate search's next attempt
      attempt_open_ = true;
      return;
    }
    if (starts_with(l, "Started a compilation timeout timer")) {
      ++timers_open_;
      return;
    }
    if (starts_with(l, "Compilation child process completed")) {
      if (timers_open_ > 0) --timers_open_;
      return;
    }
    if (auto v = after(l, "Compilation failed:")) {
      out_.failures.emplace_back(*v);
      return;
    }
    // A new model block starts at "Input model:" (stdout) or "Input:" (operation log).
    std::optional<std::string_view> input = after(l, "Input model:");
    const bool log_block = !input && starts_with(l, "Input:");
    if (log_block) input = after(l, "Input:");
    if (input) {
      finish_model();
      in_table_ = false;
      operation_log_block_ = log_block;
      model().input_model = std::string(*input);
      return;
    }
    if (auto v = after(l, "Output model:")) return void(model().output_model = std::string(*v));
    if (auto v = after(l, "Output:")) return void(model().output_model = std::string(*v));
    if (auto v = after(l, "Input size:")) return size_field(model().input_bytes, *v, "input size");
    if (auto v = after(l, "Output size:"))
      return size_field(model().output_bytes, *v, "output size");
    if (auto v = after(l, "On-chip memory used for caching model parameters:"))
      return size_field(model().on_chip_used, *v, "on-chip memory used");
    if (auto v = after(l, "On-chip memory remaining for caching model parameters:"))
      return size_field(model().on_chip_remaining, *v, "on-chip memory remaining");
    if (auto v = after(l, "On-chip memory available for caching model parameters:"))
      return size_field(model().on_chip_available, *v, "on-chip memory available");
    if (auto v = after(l, "Off-chip memory used for streaming uncached model parameters:"))
      return size_field(model().off_chip_used, *v, "off-chip memory used");
    if (auto v = after(l, "Number of Edge TPU subgraphs:"))
      return int_field(model().subgraphs, *v, "number of subgraphs");
    if (auto v = after(l, "Total number of operations:"))
      return int_field(model().total_ops, *v, "total number of operations");
    if (auto v = after(l, "Number of operations that will run on Edge TPU:"))
      return int_field(model().ops_on_tpu, *v, "operations on the Edge TPU");
    if (auto v = after(l, "Number of operations that will run on CPU:"))
      return int_field(model().ops_on_cpu, *v, "operations on the CPU");
    if (auto v = after(l, "Operation log:")) return void(model().operation_log = std::string(*v));
    if (starts_with(l, "Operator") && l.find("Count") != std::string_view::npos &&
        l.find("Status") != std::string_view::npos) {
      in_table_ = true;
      table_rows_ = 0;
      return;
    }
    if (in_table_) {
      const std::string_view first_word = l.substr(0, l.find(' '));
      if (!looks_like_op_name(first_word)) {  // the table ended: other text follows
        in_table_ = false;
        return;
      }
      if (auto row = parse_operator_row(l)) {
        model().operators.push_back(std::move(*row));
        ++table_rows_;
      } else {
        gap("operator table row cut short: '" + std::string(l) + "'");
        cut_row_in_model_ = true;
      }
    }
  }

  CompilerOutput out_;
  bool current_ = false;
  bool in_table_ = false;
  bool cut_row_in_model_ = false;
  bool operation_log_block_ = false;
  bool attempt_open_ = false;
  int table_rows_ = 0;
  int timers_open_ = 0;
};

}  // namespace

std::optional<int64_t> parse_compiler_size(std::string_view text) {
  text = trim(text);
  size_t digits = 0;
  while (digits < text.size() &&
         ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.'))
    ++digits;
  if (digits == 0) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (ec != std::errc() || end != text.data() + digits || !std::isfinite(value))
    return std::nullopt;
  const std::string_view unit = trim(text.substr(digits));
  double scale = 0;
  if (unit == "B")
    scale = 1;
  else if (unit == "KiB")
    scale = 1024.0;
  else if (unit == "MiB")
    scale = 1024.0 * 1024;
  else if (unit == "GiB")
    scale = 1024.0 * 1024 * 1024;
  else
    return std::nullopt;
  const double bytes = value * scale;
  if (bytes > 1e15) return std::nullopt;
  return static_cast<int64_t>(std::llround(bytes));
}

CompilerOutput parse_compiler_output(std::string_view text) {
  return Parser().run(text);
}

}  // namespace pipecut
