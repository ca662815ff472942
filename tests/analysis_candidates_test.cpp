// Cut candidates on real models: checked against a brute-force definition, and independent of
// the execution order the file stores.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include "format/tflite_schema.h"
#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

using testing::coral_model;

// The definition, evaluated directly: t is a single-tensor cut when every op is upstream of t
// (an ancestor of its producer, or the producer) or downstream of it (reachable from t), and t
// is the only activation made upstream that is needed downstream or is a model output.
std::set<int> brute_force_cuts(const Model& m, const Graph& g) {
  const int n = static_cast<int>(m.ops().size());
  std::set<int> out;
  for (const Tensor& t : m.tensors()) {
    const int producer = g.producer[static_cast<size_t>(t.index)];
    if (producer < 0 || producer == n - 1) continue;
    std::vector<bool> up(static_cast<size_t>(n), false), down(static_cast<size_t>(n), false);
    std::vector<int> stack{producer};
    up[static_cast<size_t>(producer)] = true;
    while (!stack.empty()) {
      const int op = stack.back();
      stack.pop_back();
      for (int in : m.ops()[static_cast<size_t>(op)].inputs) {
        if (in < 0) continue;
        const int p = g.producer[static_cast<size_t>(in)];
        if (p >= 0 && !up[static_cast<size_t>(p)]) {
          up[static_cast<size_t>(p)] = true;
          stack.push_back(p);
        }
      }
    }
    for (int c : g.consumers[static_cast<size_t>(t.index)]) {
      down[static_cast<size_t>(c)] = true;
      stack.push_back(c);
    }
    while (!stack.empty()) {
      const int op = stack.back();
      stack.pop_back();
      for (int o : m.ops()[static_cast<size_t>(op)].outputs) {
        for (int c : g.consumers[static_cast<size_t>(o)]) {
          if (!down[static_cast<size_t>(c)]) {
            down[static_cast<size_t>(c)] = true;
            stack.push_back(c);
          }
        }
      }
    }
    bool ok = true;
    for (int i = 0; i < n && ok; ++i)
      ok = up[static_cast<size_t>(i)] != down[static_cast<size_t>(i)];
    // Model inputs read downstream also cross the cut.
    for (int in : m.inputs()) {
      for (int c : g.consumers[static_cast<size_t>(in)]) ok = ok && !down[static_cast<size_t>(c)];
    }
    for (int i = 0; i < n && ok; ++i) {
      if (!up[static_cast<size_t>(i)]) continue;
      for (int o : m.ops()[static_cast<size_t>(i)].outputs) {
        if (o == t.index) continue;
        if (g.is_output[static_cast<size_t>(o)]) ok = false;
        for (int c : g.consumers[static_cast<size_t>(o)]) ok = ok && !down[static_cast<size_t>(c)];
      }
    }
    if (ok) out.insert(t.index);
  }
  return out;
}

std::set<std::string> single_cut_names(const Model& m) {
  const Graph g(m);
  std::set<std::string> names;
  for (const auto& c : find_cut_candidates(m, g)) {
    EXPECT_EQ(c.tensors.size(), 1u);
    names.insert(m.tensor(c.tensors[0]).name);
  }
  return names;
}

// Writes the model with its ops in another valid execution order, chosen at random.
std::vector<uint8_t> reorder_ops(const std::vector<uint8_t>& bytes, uint32_t seed) {
  const Model m = Model::from_bytes(bytes, "orig");
  const Graph g(m);
  const size_t n = m.ops().size();
  std::vector<int> pending(n, 0);
  for (const Op& op : m.ops()) {
    std::set<int> deps;
    for (int in : op.inputs) {
      if (in >= 0 && g.producer[static_cast<size_t>(in)] >= 0)
        deps.insert(g.producer[static_cast<size_t>(in)]);
    }
    pending[static_cast<size_t>(op.index)] = static_cast<int>(deps.size());
  }
  std::vector<int> ready, order;
  for (size_t i = 0; i < n; ++i) {
    if (pending[i] == 0) ready.push_back(static_cast<int>(i));
  }
  std::mt19937 rng(seed);
  while (!ready.empty()) {
    const size_t pick = rng() % ready.size();
    const int op = ready[pick];
    ready.erase(ready.begin() + static_cast<std::ptrdiff_t>(pick));
    order.push_back(op);
    std::set<int> next;
    for (int o : m.ops()[static_cast<size_t>(op)].outputs) {
      for (int c : g.consumers[static_cast<size_t>(o)]) next.insert(c);
    }
    for (int c : next) {
      if (--pending[static_cast<size_t>(c)] == 0) ready.push_back(c);
    }
  }
  EXPECT_EQ(order.size(), n);
  std::unique_ptr<tflite::ModelT> obj(tflite::GetModel(bytes.data())->UnPack());
  auto& ops = obj->subgraphs[0]->operators;
  std::vector<std::unique_ptr<tflite::OperatorT>> reordered;
  for (int i : order) reordered.push_back(std::move(ops[static_cast<size_t>(i)]));
  ops = std::move(reordered);
  flatbuffers::FlatBufferBuilder fbb;
  tflite::FinishModelBuffer(fbb, tflite::Model::Pack(fbb, obj.get()));
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

TEST(Candidates, MatchBruteForceOnEveryRealModel) {
  for (const std::string& file : testing::coral_splittable_models()) {
    SCOPED_TRACE(file);
    const Model m = Model::load(coral_model(file));
    const Graph g(m);
    std::set<int> found;
    CandidateOptions options;
    options.require_edgetpu_op = false;
    for (const auto& c : find_cut_candidates(m, g, options)) found.insert(c.tensors.at(0));
    EXPECT_EQ(found, brute_force_cuts(m, g));
  }
}

TEST(Candidates, LiveSetsAgreeWithLiveAfter) {
  for (const std::string& file : testing::coral_splittable_models()) {
    SCOPED_TRACE(file);
    const Model m = Model::load(coral_model(file));
    const Graph g(m);
    CandidateOptions options;
    options.max_tensors = 64;
    for (const auto& c : find_cut_candidates(m, g, options)) {
      EXPECT_EQ(live_after(m, g, c.position), c.tensors) << c.position;
    }
  }
}

TEST(Candidates, ChainModelCutsEverywhere) {
  const Model m = Model::load(coral_model("mobilenet_v1_0.25_128_quant.tflite"));
  const auto candidates = find_cut_candidates(m, Graph(m));
  ASSERT_EQ(candidates.size(), m.ops().size() - 1);
  int64_t previous = -1;
  for (const auto& c : candidates) {
    EXPECT_TRUE(c.usable()) << c.position;
    EXPECT_GE(c.params_before, previous);
    previous = c.params_before;
    EXPECT_EQ(c.crossing_bytes, m.tensor(c.tensors[0]).byte_size());
  }
}

TEST(Candidates, ResidualBlocksAreNotCut) {
  const Model m = Model::load(coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  const Graph g(m);
  const auto candidates = find_cut_candidates(m, g);
  EXPECT_LT(candidates.size(), m.ops().size() - 1);
  EXPECT_GT(candidates.size(), 20u);
  // No cut lies strictly between the producer of an ADD's input and the ADD.
  for (const Op& op : m.ops()) {
    if (m.op_type(op) != "ADD") continue;
    for (int in : op.inputs) {
      const int p = g.producer[static_cast<size_t>(in)];
      for (const auto& c : candidates)
        EXPECT_FALSE(c.position >= p && c.position < op.index - 1 && c.position > p);
    }
  }
}

TEST(Candidates, DoNotDependOnStoredOrder) {
  for (const std::string& file : {std::string("mobilenet_v2_1.0_224_quant.tflite"),
                                  std::string("deeplabv3_mnv2_dm05_pascal_quant.tflite"),
                                  std::string("split_concat.tflite")}) {
    SCOPED_TRACE(file);
    const auto bytes = testing::read_bytes(coral_model(file));
    const auto expected = single_cut_names(Model::from_bytes(bytes, file));
    for (uint32_t seed = 1; seed <= 20; ++seed) {
      const Model shuffled = Model::from_bytes(reorder_ops(bytes, seed), "shuffled");
      EXPECT_EQ(single_cut_names(shuffled), expected) << seed;
    }
  }
}

TEST(Candidates, ReasonsNameWhatDisqualifies) {
  // split_concat's only single-tensor cut is the first CONCATENATION's uint8 output.
  const Model m = Model::load(coral_model("split_concat.tflite"));
  const auto candidates = find_cut_candidates(m, Graph(m));
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_TRUE(candidates[0].usable());
  EXPECT_EQ(m.tensor(candidates[0].tensors[0]).name, "concat");
  // The float LSTM model's cuts are disqualified for their type or their op.
  const Model lstm = Model::load(coral_model("keras_lstm_mnist_ptq.tflite"));
  bool saw_type = false, saw_op = false;
  for (const auto& c : find_cut_candidates(lstm, Graph(lstm))) {
    for (const auto& r : c.reasons) {
      saw_type = saw_type || r.find("not 8-bit") != std::string::npos;
      saw_op = saw_op || r.find("Edge TPU cannot run") != std::string::npos;
    }
  }
  EXPECT_TRUE(saw_type || saw_op);
  // The SPLIT's six outputs are all live after it (four are model outputs): with six live
  // tensors allowed, that cut appears as well, and with five it does not.
  CandidateOptions multi;
  multi.max_tensors = 6;
  const auto more = find_cut_candidates(m, Graph(m), multi);
  ASSERT_EQ(more.size(), 2u);
  EXPECT_EQ(more[1].tensors.size(), 6u);
  multi.max_tensors = 5;
  EXPECT_EQ(find_cut_candidates(m, Graph(m), multi).size(), 1u);
}

TEST(Candidates, DeeplabBranchesNeedMultiTensorCuts) {
  const Model m = Model::load(coral_model("deeplabv3_mnv2_dm05_pascal_quant.tflite"));
  const Graph g(m);
  const auto single = find_cut_candidates(m, g);
  CandidateOptions two;
  two.max_tensors = 2;
  const auto multi = find_cut_candidates(m, g, two);
  EXPECT_GT(multi.size(), single.size());
  for (const auto& c : multi) EXPECT_LE(c.tensors.size(), 2u);
}

TEST(Candidates, ParamBytesAddUp) {
  for (const std::string& file : testing::coral_splittable_models()) {
    const Model m = Model::load(coral_model(file));
    int64_t sum = 0;
    for (int64_t b : op_param_bytes(m)) sum += b;
    std::set<uint32_t> buffers;
    int64_t expected = 0;
    for (const Op& op : m.ops()) {
      for (int in : op.inputs) {
        if (in >= 0 && m.tensor(in).is_constant() && buffers.insert(m.tensor(in).buffer).second) {
          expected += static_cast<int64_t>(m.tensor(in).data.size());
        }
      }
    }
    EXPECT_EQ(sum, expected) << file;
    EXPECT_GT(sum, 0) << file;
  }
}

TEST(Names, ResolveExactLayerAndRegex) {
  const Model m = Model::load(coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  const Graph g(m);
  const int add = find_tensor(m, g, "MobilenetV2/expanded_conv_2/add");
  EXPECT_EQ(m.tensor(add).name, "MobilenetV2/expanded_conv_2/add");
  EXPECT_EQ(find_tensor(m, g, "expanded_conv_2/add"), add);
  const int project = find_tensor(m, g, "expanded_conv_2/project");
  EXPECT_EQ(m.tensor(project).name.rfind("MobilenetV2/expanded_conv_2/project/add_fold", 0), 0u);
  EXPECT_EQ(find_tensor(m, g, ".*expanded_conv_4/add"), find_tensor(m, g, "expanded_conv_4/add"));
  EXPECT_EQ(short_tensor_name(m.tensor(add).name), "expanded_conv_2");
  // A scope whose tensors form one chain names the chain's end: the block output.
  EXPECT_EQ(find_tensor(m, g, "expanded_conv_2"), add);
}

TEST(Names, MissingAndAmbiguousNamesListCloseMatches) {
  const Model m = Model::load(coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  const Graph g(m);
  try {
    find_tensor(m, g, "expanded_conv_2/ad");
    FAIL();
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("close matches"), std::string::npos) << what;
    EXPECT_NE(what.find("expanded_conv_2/add"), std::string::npos) << what;
  }
  try {
    find_tensor(m, g, "project");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ambiguous"), std::string::npos) << e.what();
  }
  try {
    find_tensor(m, g, "MobilenetV2/Conv/weights_quant/FakeQuantWithMinMaxVars");
    FAIL();
  } catch (const Error&) {
  }
}

int64_t total(const std::vector<int64_t>& per_op) {
  return std::accumulate(per_op.begin(), per_op.end(), int64_t{0});
}

TEST(Macs, MatchThePublishedCounts) {
  // The MobileNet papers give 300 M multiply-adds for v2 1.0/224 and 14 M for v1 0.25/128.
  const Model m = Model::load(testing::coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  const std::vector<int64_t> macs = op_macs(m);
  const int64_t v2 = total(macs);
  EXPECT_GT(v2, 299'000'000);
  EXPECT_LT(v2, 302'000'000);
  const int64_t v1 =
      total(op_macs(Model::load(testing::coral_model("mobilenet_v1_0.25_128_quant.tflite"))));
  EXPECT_GT(v1, 13'500'000);
  EXPECT_LT(v1, 14'500'000);
  // Only convolutions, depthwise convolutions and dense layers count.
  for (const Op& op : m.ops()) {
    const std::string type = m.op_type(op);
    const bool weighted =
        type == "CONV_2D" || type == "DEPTHWISE_CONV_2D" || type == "FULLY_CONNECTED";
    EXPECT_EQ(macs[static_cast<size_t>(op.index)] > 0, weighted) << op.index << " " << type;
  }
}

}  // namespace
}  // namespace pipecut
