#pragma once
// pipecut run --profile: an executable's kernel times gathered per op type and ranked, printed as
// two tables or as JSON.
#include <cstdint>
#include <string>
#include <vector>

#include "pipecut/json.h"
#include "pipecut/model.h"
#include "pipecut/runtime.h"

namespace pipecut::cli {

// Where the time goes: per op type, and the slowest ops with their rate (2 x MACs / time).
struct Profile {
  struct TypeRow {
    std::string type;
    int ops = 0;
    double ms = 0;
  };
  std::vector<TypeRow> by_type;      // slowest type first
  std::vector<OpTime> ops;           // slowest op first
  std::vector<int64_t> macs;         // by op index
  std::vector<std::string> outputs;  // by op index: its first output tensor's name
  double total_ms = 0;
};

Profile make_profile(const Model& model, std::vector<OpTime> times);
// The time per op type and the ten slowest ops, to standard output.
void print_profile(const Profile& p, const Model& model, int runs);
// Also what `plan --costs` checks the file against: the model's op count and, per op, its type
// and output tensor name.
nlohmann::ordered_json profile_json(const Profile& p, int runs);

}  // namespace pipecut::cli
