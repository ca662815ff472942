// The layer-table reader: each row is a kind and its arguments, turned into GraphBuilder calls.
#include "zoo/layer_table.h"

#include <cctype>
#include <cstdlib>
#include <map>
#include <sstream>

#include "pipecut/error.h"

namespace pipecut::zoo {

namespace {

std::vector<std::string> words(const std::string& row) {
  std::istringstream in(row);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// What a row's words say besides its kind and its first number.
struct RowOptions {
  int kernel_h = 0, kernel_w = 0;
  int stride = 1;
  bool stride_given = false;
  Padding padding = Padding::kSame;
  bool padding_given = false;
  bool batch_norm = false;
  Activation activation = Activation::kNone;
  std::string name;
  std::string keras;  // Keras layer names BASE_conv / BASE_bn / BASE_relu (ResNet style)
  std::string conv_name, bn_name, act_name;  // or each named (MobileNetV2 style)
  std::string bias_name;                     // the bias tensor's own name, when given
  std::string slim;  // a TF-slim scope: SCOPE/Relu, SCOPE/weights, SCOPE/BatchNorm/...
  double bn_epsilon = 1e-3;
  // Which kinds of word the row used (Word bits), and the first of each, for the error.
  unsigned used = 0;
  std::map<unsigned, std::string> first_word;
};

// The kinds of word a row may carry; each row kind accepts some of them.
enum Word : unsigned {
  kKernelWord = 1,
  kStrideWord = 2,
  kPaddingWord = 4,
  kBnWord = 8,
  kReluWord = 16,
  kRelu6Word = 32,
  kNameWord = 64,
  kLayerNamesWord = 128,  // keras=, conv=, bn=, act=, bias=
  kSlimWord = 256,
  kEpsWord = 512,
};

class TableBuilder {
 public:
  TableBuilder(GraphBuilder& g, const LayerTable& table) : g_(g), table_(table) {}

  std::string build() {
    for (const BlockTable& b : table_.blocks) {
      for (const char* kind : {"input", "conv", "dwconv", "maxpool", "avgpool", "gap", "flatten",
                               "pad", "upsample", "dense", "softmax", "dropout", "shortcut"})
        if (b.name == kind) throw Error("zoo table: block " + b.name + " is named like a row kind");
    }
    if (table_.rows.empty() || words(table_.rows.front()).empty() ||
        words(table_.rows.front()).front() != "input")
      throw Error("zoo table: the first row must be the input");
    for (const std::string& row : table_.rows) model_row(row);
    g_.set_output(x_, table_.output_name);
    return table_.summary;
  }

 private:
  [[noreturn]] static void fail(const std::string& row, const std::string& what) {
    throw Error("zoo table: row '" + row + "': " + what);
  }

  // "$1*4", "$in", "64" -> a number, with the block instance's arguments.
  int number(const std::string& row, const std::string& text, const std::vector<int>& args = {},
             int in_channels = 0) const {
    if (text.empty() || text.front() == '*' || text.back() == '*')
      fail(row, "not a count: '" + text + "'");
    int value = 1;
    std::istringstream factors(text);
    for (std::string f; std::getline(factors, f, '*');) {
      int v = 0;
      if (f == "$in") {
        v = in_channels;
      } else if (f.size() == 2 && f[0] == '$' && f[1] >= '1' && f[1] <= '9') {
        const size_t k = static_cast<size_t>(f[1] - '1');
        if (k >= args.size()) fail(row, "no argument " + f);
        v = args[k];
      } else {
        char* end = nullptr;
        const long n = std::strtol(f.c_str(), &end, 10);
        if (f.empty() || *end != '\0' || n <= 0 || n > 1'000'000) fail(row, "not a count: " + f);
        v = static_cast<int>(n);
      }
      if (v <= 0 || value > 1'000'000 / v) fail(row, "not a count: " + text);  // at most 10^6
      value *= v;
    }
    if (value <= 0) fail(row, "not a positive count: " + text);
    return value;
  }

  RowOptions options(const std::string& row, const std::vector<std::string>& w, size_t from,
                     const std::vector<int>& args, int in_channels) const {
    RowOptions o;
    for (size_t i = from; i < w.size(); ++i) {
      const std::string& t = w[i];
      const unsigned before = o.used;
      const auto mark = [&](unsigned bit) {
        o.used |= bit;
        if (!(before & bit)) o.first_word.emplace(bit, t);
      };
      if (t == "bn") {
        mark(kBnWord);
        o.batch_norm = true;
      } else if (t == "relu") {
        mark(kReluWord);
        o.activation = Activation::kRelu;
      } else if (t == "relu6") {
        mark(kRelu6Word);
        o.activation = Activation::kRelu6;
      } else if (t == "valid" || t == "same") {
        mark(kPaddingWord);
        o.padding = t == "valid" ? Padding::kValid : Padding::kSame;
        o.padding_given = true;
      } else if (t.rfind("name=", 0) == 0) {
        mark(kNameWord);
        o.name = t.substr(5);
      } else if (t.rfind("conv=", 0) == 0) {
        mark(kLayerNamesWord);
        o.conv_name = t.substr(5);
      } else if (t.rfind("bn=", 0) == 0) {
        mark(kLayerNamesWord);
        o.bn_name = t.substr(3);
        o.batch_norm = true;
      } else if (t.rfind("act=", 0) == 0) {
        mark(kLayerNamesWord);
        o.act_name = t.substr(4);
      } else if (t.rfind("bias=", 0) == 0) {
        mark(kLayerNamesWord);
        o.bias_name = t.substr(5);
      } else if (t.rfind("slim=", 0) == 0) {
        mark(kSlimWord);
        o.slim = t.substr(5);
      } else if (t.rfind("keras=", 0) == 0) {
        mark(kLayerNamesWord);
        o.keras = t.substr(6);
      } else if (t.rfind("eps=", 0) == 0) {
        mark(kEpsWord);
        char* end = nullptr;
        o.bn_epsilon = std::strtod(t.c_str() + 4, &end);
        if (*end != '\0' || !(o.bn_epsilon > 0 && o.bn_epsilon < 1)) fail(row, "bad " + t);
      } else if (t.size() > 1 && t[0] == 's' &&
                 (t[1] == '$' || std::isdigit(static_cast<unsigned char>(t[1])))) {
        mark(kStrideWord);
        o.stride = number(row, t.substr(1), args, in_channels);
        o.stride_given = true;
      } else if (t.size() > 1 && t[0] == 'x' && std::isdigit(static_cast<unsigned char>(t[1]))) {
        fail(row, "'" + t + "': only block rows repeat");
      } else if (const size_t by = t.find('x');
                 by != std::string::npos && by > 0 && by + 1 < t.size()) {
        mark(kKernelWord);
        o.kernel_h = number(row, t.substr(0, by), args, in_channels);
        o.kernel_w = number(row, t.substr(by + 1), args, in_channels);
      } else {
        fail(row, "unknown word '" + t + "'");
      }
    }
    return o;
  }

  // Refuses a word the row's kind does not use (it would be silently ignored).
  static void only(const std::string& row, const std::string& kind, const RowOptions& o,
                   unsigned allowed) {
    for (const auto& [bit, word] : o.first_word)
      if (!(allowed & bit)) fail(row, "'" + word + "' does not apply to " + kind);
  }

  // A tensor name under the table's prefix ("model/" as the TF converter writes Keras models).
  std::string named(const std::string& layer_op) const { return table_.prefix + layer_op; }

  std::string auto_name(const std::string& kind) { return kind + std::to_string(++counts_[kind]); }

  // One layer row, from `x`; `prefix` names layers inside a block instance.
  Node layer(const std::string& row, Node x, const std::string& name_hint,
             const std::vector<int>& args = {}) {
    const std::vector<std::string> w = words(row);
    if (w.empty()) fail(row, "empty row");
    const std::string& kind = w[0];
    const int in_channels = g_.shape(x).back();
    if (kind == "conv" || kind == "dwconv") {
      const bool depthwise = kind == "dwconv";
      const size_t from = depthwise ? 1 : 2;
      if (w.size() < from + 1) fail(row, "conv needs its filters and kernel");
      RowOptions o = options(row, w, from, args, in_channels);
      if (o.kernel_h == 0) fail(row, "no kernel (3x3, 1x7, ...)");
      only(row, kind, o, ~0u);
      const std::string name = o.name.empty() ? name_hint : o.name;
      const std::string op = depthwise ? "/depthwise" : "/Conv2D";
      ConvSpec spec;
      if (!o.slim.empty()) {  // TF-slim's conv2d scope: weights, folded batch norm, activation
        spec.output = named(o.slim + (o.activation == Activation::kRelu6  ? "/Relu6"
                                      : o.activation == Activation::kRelu ? "/Relu"
                                                                          : "/BiasAdd"));
        spec.weights = named(o.slim + "/weights");
        spec.bias = named(o.slim + (o.batch_norm ? "/BatchNorm/FusedBatchNorm" : "/biases"));
      } else if (!o.conv_name.empty()) {  // each layer named; the bias is the batch norm's
        if (o.bn_name.empty()) fail(row, "conv= needs bn= (the bias is the batch norm's)");
        spec.output = (o.act_name.empty()
                           ? std::string()
                           : named(o.act_name +
                                   (o.activation == Activation::kRelu6 ? "/Relu6;" : "/Relu;"))) +
                      named(o.bn_name + "/FusedBatchNormV3;") + named(o.conv_name + op);
        spec.weights = named(o.conv_name + op + "/ReadVariableOp");
        spec.bias = named(o.bn_name + "/FusedBatchNormV3/ReadVariableOp");
      } else if (!o.keras.empty()) {  // Keras' conv, bn and activation layers, fused
        const std::string& k = o.keras;
        spec.output =
            (o.activation == Activation::kNone ? std::string() : named(k + "_relu/Relu;")) +
            (o.batch_norm ? named(k + "_bn/FusedBatchNormV3;") : std::string()) +
            named(k + "_conv" + op);
        spec.weights = named(k + "_conv" + op + "/ReadVariableOp");
        spec.bias = named(k + "_conv/BiasAdd/ReadVariableOp");
      } else {
        spec.output =
            (o.activation == Activation::kRelu6  ? named(name + "/Relu6;")
             : o.activation == Activation::kRelu ? named(name + "/Relu;")
                                                 : std::string()) +
            (o.batch_norm ? named(name + "/FusedBatchNormV3;") : named(name + "/BiasAdd;")) +
            named(name + op);
        spec.weights = named(name + op + "/ReadVariableOp");
        spec.bias = named(name + "/BiasAdd/ReadVariableOp");
      }
      spec.bn_epsilon = o.bn_epsilon;
      if (!o.bias_name.empty()) spec.bias = named(o.bias_name);
      spec.filters = depthwise ? in_channels : number(row, w[1], args, in_channels);
      spec.kernel = o.kernel_h;
      spec.kernel_width = o.kernel_w;
      spec.stride = o.stride;
      spec.padding = o.padding;
      spec.activation = o.activation;
      spec.batch_norm = o.batch_norm;
      return depthwise ? g_.depthwise_conv2d(x, spec) : g_.conv2d(x, spec);
    }
    if (kind == "maxpool" || kind == "avgpool") {
      if (w.size() < 2) fail(row, "a pool needs its window");
      const int size = number(row, w[1], args, in_channels);
      RowOptions o = options(row, w, 2, args, in_channels);
      only(row, kind, o, kStrideWord | kPaddingWord | kNameWord);
      const std::string name = o.name.empty() ? name_hint : o.name;
      const int stride = o.stride_given ? o.stride : size;
      const Padding padding = o.padding_given ? o.padding : Padding::kValid;
      return kind == "maxpool" ? g_.max_pool(x, named(name + "/MaxPool"), size, stride, padding)
                               : g_.avg_pool(x, named(name + "/AvgPool"), size, stride, padding);
    }
    if (kind == "gap" || kind == "flatten") {
      const RowOptions o = options(row, w, 1, args, in_channels);
      only(row, kind, o, kNameWord);
      const std::string name = o.name.empty() ? name_hint : o.name;
      if (kind == "gap") return g_.avg_pool_global(x, named(name + "/Mean"));
      const auto& s = g_.shape(x);
      int32_t n = 1;
      for (size_t i = 1; i < s.size(); ++i) n *= s[i];
      return g_.reshape(x, named(name + "/Reshape"), {s[0], n});
    }
    if (kind == "dense") {
      if (w.size() < 2) fail(row, "dense needs its units");
      RowOptions o = options(row, w, 2, args, in_channels);
      only(row, kind, o, kReluWord | kNameWord | kSlimWord);
      const std::string name = o.name.empty() ? name_hint : o.name;
      if (g_.shape(x).size() != 2) fail(row, "dense needs a flat input (gap or flatten first)");
      if (!o.slim.empty()) {
        DenseSpec spec;
        spec.output = named(o.slim + "/BiasAdd");
        spec.weights = named(o.slim + "/weights");
        spec.bias = named(o.slim + "/biases");
        spec.units = number(row, w[1], args, in_channels);
        spec.activation = o.activation == Activation::kRelu ? Activation::kRelu : Activation::kNone;
        return g_.dense(x, spec);
      }
      // Keras' Dense as the converter names it: <name>/MatMul, <name>/BiasAdd (and <name>/Relu).
      const bool relu = o.activation == Activation::kRelu;
      DenseSpec spec;
      spec.output = (relu ? named(name + "/Relu;") : std::string()) + named(name + "/MatMul;") +
                    named(name + "/BiasAdd");
      spec.weights = named(name + "/MatMul/ReadVariableOp");
      spec.bias = named(name + "/BiasAdd/ReadVariableOp");
      spec.units = number(row, w[1], args, in_channels);
      spec.activation = relu ? Activation::kRelu : Activation::kNone;
      return g_.dense(x, spec);
    }
    if (kind == "softmax") {
      const RowOptions o = options(row, w, 1, args, in_channels);
      only(row, kind, o, kNameWord | kSlimWord);
      if (!o.slim.empty()) return g_.softmax(x, named(o.slim));  // slim names the tensor itself
      return g_.softmax(x, named((o.name.empty() ? name_hint : o.name) + "/Softmax"));
    }
    if (kind == "upsample") {  // nearest neighbour, by an integer factor
      if (w.size() < 2) fail(row, "upsample needs its factor");
      const int factor = number(row, w[1], args, in_channels);
      const RowOptions o = options(row, w, 2, args, in_channels);
      only(row, kind, o, kNameWord);
      return g_.upsample(x, named((o.name.empty() ? name_hint : o.name) + "/ResizeNearestNeighbor"),
                         factor);
    }
    if (kind == "pad") {
      // "pad P" on every side; "pad correct" as Keras' correct_pad before a 3x3 stride-2 conv:
      // one more row and column at the bottom and right, one at the top and left only when odd.
      if (w.size() < 2) fail(row, "pad needs its width");
      const RowOptions o = options(row, w, 2, args, in_channels);
      only(row, kind, o, kNameWord);
      const std::string name = named((o.name.empty() ? name_hint : o.name) + "/Pad");
      if (w[1] == "correct") {
        const auto& s = g_.shape(x);
        return g_.pad(x, name, s[1] % 2, 1, s[2] % 2, 1);
      }
      const int p = number(row, w[1], args, in_channels);
      return g_.pad(x, name, p, p, p, p);
    }
    fail(row, "unknown kind '" + kind + "'");
  }

  const BlockTable* block(const std::string& kind) const {
    for (const BlockTable& b : table_.blocks)
      if (b.name == kind) return &b;
    return nullptr;
  }

  // A row naming a block table: "BLOCK ARGS [sN] [xN] [name=N]", its arguments taken with the
  // enclosing instance's `outer` ones; N instances, only the first taking the stride.
  Node block_row(const std::string& row, const BlockTable& b, Node x,
                 const std::vector<int>& outer = {}) {
    std::vector<int> args;
    int repeat = 1;
    std::string name;
    const std::vector<std::string> w = words(row);
    const int in_channels = g_.shape(x).back();
    int stride = 0;  // "sN": the block's stride argument, wherever it is written
    for (size_t i = 1; i < w.size(); ++i) {
      if (w[i].rfind("name=", 0) == 0) {
        name = w[i].substr(5);
        if (name.find('$') != std::string::npos) fail(row, "a block's name cannot hold '$'");
      } else if (w[i].size() > 1 && w[i][0] == 'x') {
        repeat = number(row, w[i].substr(1), outer, in_channels);
      } else if (w[i].size() > 1 && w[i][0] == 's') {
        if (b.stride_argument == 0) fail(row, "block " + b.name + " takes no stride");
        stride = number(row, w[i].substr(1), outer, in_channels);
      } else {
        args.push_back(number(row, w[i], outer, in_channels));
      }
    }
    if (b.stride_argument > 0) {
      if (stride == 0) fail(row, "block " + b.name + " needs its stride (sN)");
      const size_t at = static_cast<size_t>(b.stride_argument) - 1;
      if (at > args.size()) fail(row, "block " + b.name + " needs more arguments");
      args.insert(args.begin() + static_cast<long>(at), stride);
    }
    // "name=conv4_block%": the instances are conv4_block1, conv4_block2, ...
    const size_t counter = name.find('%');
    if (!name.empty() && repeat > 1 && counter == std::string::npos)
      fail(row, "repeated named blocks need a % in the name for their number");
    for (int r = 0; r < repeat; ++r) {
      std::vector<int> a = args;
      if (r > 0 && b.stride_argument > 0) a.at(static_cast<size_t>(b.stride_argument) - 1) = 1;
      std::string instance = name;
      if (counter != std::string::npos) instance.replace(counter, 1, std::to_string(r + 1));
      x = block_instance(row, b, x, a, instance);
    }
    return x;
  }

  // One instance of a block table on `x`, named `name` or "<block><n>".
  Node block_instance(const std::string& row, const BlockTable& b, Node x,
                      const std::vector<int>& args, const std::string& name = "") {
    if (++depth_ > 8) fail(row, "blocks nested more than 8 deep");
    const std::string instance = name.empty() ? b.name + std::to_string(++counts_[b.name]) : name;
    const int in_channels = g_.shape(x).back();
    const int stride =
        b.stride_argument > 0 ? args.at(static_cast<size_t>(b.stride_argument) - 1) : 1;
    std::vector<Node> outs;
    for (size_t k = 0; k < b.branches.size(); ++k) {
      // "$name" in a row is the instance's name ("keras=$name_1" -> conv2_block1_1_conv ...).
      std::vector<std::string> rows;
      for (std::string r : b.branches[k]) {
        for (size_t at = 0; (at = r.find("$name", at)) != std::string::npos; at += instance.size())
          r.replace(at, 5, instance);
        rows.push_back(std::move(r));
      }
      const std::string branch = instance + "_" + static_cast<char>('a' + k);
      const std::vector<std::string> first =
          rows.empty() ? std::vector<std::string>{} : words(rows[0]);
      if (!first.empty() && first[0] == "shortcut") {
        if (b.shortcut == BlockTable::Shortcut::kNoneWhenStrided && stride != 1) continue;
        if (first.size() < 2) fail(row, "shortcut needs its filters");
        if (rows.size() > 1) fail(row, "a shortcut branch has the shortcut row alone");
        const RowOptions o = options(rows[0], first, 2, args, in_channels);
        only(rows[0], "shortcut", o,
             kStrideWord | kPaddingWord | kNameWord | kLayerNamesWord | kSlimWord | kEpsWord);
        const int filters = number(rows[0], first[1], args, in_channels);
        if (filters == in_channels && o.stride == 1) {
          outs.push_back(x);
        } else if (b.shortcut == BlockTable::Shortcut::kIdentityOnly) {
          continue;  // no projection: the block does not add its input
        } else {     // a 1x1 projection with batch norm; the row's other words (name, eps) apply
          std::string conv = "conv " + first[1] + " 1x1 bn";
          for (size_t i = 2; i < first.size(); ++i) conv += " " + first[i];
          outs.push_back(layer(conv, x, branch + "_shortcut", args));
        }
        continue;
      }
      Node y = x;
      for (size_t r = 0; r < rows.size(); ++r) {
        const std::vector<std::string> rw = words(rows[r]);
        if (const BlockTable* inner = rw.empty() ? nullptr : block(rw[0]))
          y = block_row(rows[r], *inner, y, args);  // a block inside a branch
        else
          y = layer(rows[r], y, branch + std::to_string(r + 1), args);
      }
      outs.push_back(y);
    }
    --depth_;
    if (outs.empty()) fail(row, "the block has no branch");
    if (outs.size() == 1) return outs[0];
    const std::vector<std::string> merge = words(b.merge);
    if (merge.empty()) fail(row, "block " + b.name + " has no merge");
    // Keras names a concatenating block's output after the block ("mixed9") and an adding one's
    // "<block>_out" (with "<block>_add" for the ADD before its ReLU).
    const std::string out = name.empty() || merge[0] != "concat" ? instance + "_out" : instance;
    if (merge[0] == "concat") return g_.concat(outs, named(out + "/concat"));
    if (merge[0] != "add" || outs.size() != 2)
      fail(row, "block " + b.name + ": merge add of two branches, or concat");
    const bool relu = merge.size() > 1 && merge[1] == "relu";
    return g_.add(
        outs[0], outs[1],
        relu ? named(out + "/Relu;") + named(instance + "_add/add") : named(instance + "_add/add"),
        relu ? Activation::kRelu : Activation::kNone);
  }

  void model_row(const std::string& row) {
    const std::vector<std::string> w = words(row);
    if (w.empty()) fail(row, "empty row");
    if (w[0] == "input") {
      if (w.size() != 2) fail(row, "input HxWxC");
      std::vector<int32_t> shape{1};
      std::istringstream dims(w[1]);
      for (std::string d; std::getline(dims, d, 'x');) shape.push_back(number(row, d));
      if (shape.size() != 4) fail(row, "input HxWxC");
      x_ = g_.input(table_.input_name, shape);
      return;
    }
    if (w[0] == "dropout") return;  // nothing at inference; kept to mirror the source
    if (const BlockTable* b = block(w[0])) {
      x_ = block_row(row, *b, x_);
      return;
    }
    const std::string& kind = w[0];
    const bool last_dense = kind == "dense" && &row != &table_.rows.back() &&
                            !words(*(&row + 1)).empty() && words(*(&row + 1)).front() == "softmax";
    const std::string name = kind == "softmax"                        ? "predictions"
                             : last_dense                             ? "predictions"
                             : kind == "maxpool" || kind == "avgpool" ? auto_name("pool")
                             : kind == "gap"                          ? "avg_pool"
                                                                      : auto_name(kind);
    x_ = layer(row, x_, name);
  }

  GraphBuilder& g_;
  const LayerTable& table_;
  std::map<std::string, int> counts_;
  int depth_ = 0;
  Node x_;
};

}  // namespace

std::string build_from_table(GraphBuilder& g, const LayerTable& table) {
  return TableBuilder(g, table).build();
}

void resize_input(LayerTable& table, int size) {
  if (size < 16 || size > 2048)
    throw Error("zoo: input size " + std::to_string(size) + " is outside 16..2048");
  if (table.rows.empty()) throw Error("zoo table: no input row to resize");
  const std::vector<std::string> w = words(table.rows.front());
  const size_t x1 = w.size() == 2 ? w[1].find('x') : std::string::npos;
  const size_t x2 = x1 == std::string::npos ? x1 : w[1].find('x', x1 + 1);
  if (w.empty() || w[0] != "input" || x2 == std::string::npos)
    throw Error("zoo table: row '" + table.rows.front() + "': input HxWxC");
  const std::string old_hw = w[1].substr(0, x2);  // "224x224"
  const std::string new_hw = std::to_string(size) + "x" + std::to_string(size);
  table.rows.front() = "input " + new_hw + w[1].substr(x2);
  for (size_t at = table.summary.find(old_hw); at != std::string::npos;
       at = table.summary.find(old_hw, at + new_hw.size()))
    table.summary.replace(at, old_hw.size(), new_hw);
}

}  // namespace pipecut::zoo
