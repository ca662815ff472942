#pragma once
// A plain text table: columns padded to their widest cell, numbers right-aligned.
#include <ostream>
#include <string>
#include <vector>

namespace pipecut::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header, std::vector<bool> right_align = {});
  void add(std::vector<std::string> row);
  void print(std::ostream& out, const std::string& indent = "  ") const;

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// A number with `digits` decimals, as a table cell ("3.142").
std::string fixed(double value, int digits);

}  // namespace pipecut::cli
