// Finding tensors by the names users know: exact names, Keras layer names inside converter names,
// or regular expressions.
#include <algorithm>
#include <regex>
#include <sstream>

#include "pipecut/analysis.h"
#include "pipecut/error.h"

namespace pipecut {

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) parts.push_back(part);
  return parts;
}

// Whether `query` ('a' or 'a/b') equals a run of consecutive '/'-components of one ';'-part of
// the name; with `first_part_only`, of the first part only (the converter's primary name).
bool has_components(const std::string& name, const std::vector<std::string>& query,
                    bool first_part_only) {
  for (const std::string& part : split(name, ';')) {
    const auto components = split(part, '/');
    for (size_t start = 0; start + query.size() <= components.size(); ++start) {
      if (std::equal(query.begin(), query.end(),
                     components.begin() + static_cast<std::ptrdiff_t>(start))) {
        return true;
      }
    }
    if (first_part_only) break;
  }
  return false;
}

// A Keras layer can produce a short chain of tensors (MatMul+BiasAdd, then Softmax): when the
// matches form such a chain, the layer's output is its last tensor.
int end_of_chain(const Graph& graph, const std::vector<int>& matches) {
  std::vector<int> sorted = matches;
  std::sort(sorted.begin(), sorted.end(), [&](int a, int b) {
    return graph.producer[static_cast<size_t>(a)] < graph.producer[static_cast<size_t>(b)];
  });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const int producer = graph.producer[static_cast<size_t>(sorted[i])];
    const auto& consumers = graph.consumers[static_cast<size_t>(sorted[i - 1])];
    if (producer < 0 || consumers.size() != 1 || consumers[0] != producer) return -1;
  }
  return sorted.back();
}

bool looks_like_regex(const std::string& q) {
  return q.find_first_of("*+?[](){}|^$\\") != std::string::npos;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string list_names(const Model& model, const std::vector<int>& tensors, size_t most) {
  std::string out;
  for (size_t i = 0; i < tensors.size() && i < most; ++i) {
    if (i) out += ", ";
    out += "'" + model.tensor(tensors[i]).name + "'";
  }
  if (tensors.size() > most) out += ", ... (" + std::to_string(tensors.size()) + " in all)";
  return out;
}

}  // namespace

std::string short_tensor_name(const std::string& tensor_name) {
  const std::string first = tensor_name.substr(0, tensor_name.find(';'));
  auto components = split(first, '/');
  if (components.size() < 2) return first;
  components.pop_back();                                             // the op ("Relu", "add_fold")
  if (components.size() >= 2) components.erase(components.begin());  // the model or scope name
  std::string out;
  for (const auto& c : components) out += (out.empty() ? "" : "/") + c;
  return out;
}

std::string pytorch_module(const std::string& tensor_name) {
  if (tensor_name.size() < 2 || tensor_name[0] != '/') return "";
  auto levels = split(tensor_name.substr(1), '/');
  if (levels.size() < 2) return "";  // "/Flatten_output_0": an op of the top module
  // The op's own level ("Relu_output_0", "Conv_pad") and any level a tool added after it
  // ("/relu/Relu_output_0/transpose") go.
  size_t op_level = levels.size() - 1;
  for (size_t i = levels.size(); i-- > 0;) {
    if (levels[i].find("_output_") != std::string::npos) {
      op_level = i;
      break;
    }
  }
  if (op_level == 0) return "";
  levels.resize(op_level);
  // Each scope level repeats its parent's path ("layer1", "layer1.1"): keep the new part.
  std::string module;
  for (const auto& level : levels) {
    if (!module.empty() && level.rfind(module + ".", 0) == 0) {
      module = level;
    } else {
      module += (module.empty() ? "" : ".") + level;
    }
  }
  return module;
}

int find_tensor(const Model& model, const Graph& graph, const std::string& query) {
  std::vector<int> activations;
  for (const Tensor& t : model.tensors()) {
    if (graph.is_activation(t.index)) activations.push_back(t.index);
  }
  const auto fail = [&](const std::string& what) { return Error(model.origin() + ": " + what); };
  if (query.empty()) throw fail("an empty tensor name was given");

  for (int t : activations) {
    if (model.tensor(t).name == query) return t;
  }
  for (const Tensor& t : model.tensors()) {
    if (t.name == query) throw fail("'" + query + "' is a constant tensor, not an activation");
  }

  auto resolve = [&](const std::vector<int>& matches, const std::string& how) -> int {
    if (matches.size() == 1) return matches[0];
    if (matches.empty()) return -1;
    const int last = end_of_chain(graph, matches);
    if (last >= 0) return last;
    // PyTorch's ONNX names carry the module path ("/layer1/layer1.1/relu_1/Relu_output_0"): a
    // module's output is what its last op makes, as users cut nn.Sequential children by hand.
    // Only when the query names one module: every match has the same path up to the query's
    // component ("relu" alone matches /relu/ and /layer1/layer1.0/relu/: ambiguous).
    const auto module_prefix = [&](int t) -> std::string {
      const std::string& name = model.tensor(t).name;
      if (name.rfind('/', 0) != 0) return "";
      const size_t at = name.find("/" + query + "/");
      return at == std::string::npos ? "" : name.substr(0, at + query.size() + 2);
    };
    const std::string first_prefix = module_prefix(matches.front());
    if (!first_prefix.empty() && std::all_of(matches.begin(), matches.end(), [&](int t) {
          return module_prefix(t) == first_prefix;
        })) {
      return *std::max_element(matches.begin(), matches.end(), [&](int a, int b) {
        return graph.producer[static_cast<size_t>(a)] < graph.producer[static_cast<size_t>(b)];
      });
    }
    throw fail("'" + query + "' is ambiguous: it " + how + " " + list_names(model, matches, 6));
  };

  const auto query_components = split(query, '/');
  std::vector<int> matches;
  for (bool first_part_only : {true, false}) {
    matches.clear();
    for (int t : activations) {
      if (has_components(model.tensor(t).name, query_components, first_part_only))
        matches.push_back(t);
    }
    if (int t = resolve(matches, "names a layer in"); t >= 0) return t;
  }

  if (looks_like_regex(query)) {
    try {
      const std::regex re(query);
      matches.clear();
      for (int t : activations) {
        if (std::regex_match(model.tensor(t).name, re)) matches.push_back(t);
      }
      if (int t = resolve(matches, "matches"); t >= 0) return t;
    } catch (const std::regex_error&) {
      // not a valid expression: fall through to the close-match report
    }
  }

  // Close matches: names containing the query, then the nearest short names by edit distance.
  std::vector<std::pair<size_t, int>> scored;
  for (int t : activations) {
    const std::string& name = model.tensor(t).name;
    const size_t distance =
        name.find(query) != std::string::npos ? 0 : edit_distance(short_tensor_name(name), query);
    scored.emplace_back(distance, t);
  }
  std::stable_sort(scored.begin(), scored.end());
  std::string close;
  for (size_t i = 0; i < scored.size() && i < 5; ++i) {
    if (i) close += ", ";
    const std::string& name = model.tensor(scored[i].second).name;
    close += name.substr(0, name.find(';'));
  }
  throw fail("no activation tensor is named '" + query + "'" +
             (close.empty() ? std::string() : "; close matches: " + close));
}

}  // namespace pipecut
