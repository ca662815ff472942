// Segments cut from real models: every op once, boundaries identical on both sides, parameters
// adding up, and every file readable.
#include <gtest/gtest.h>

#include <map>

#include "pipecut/analysis.h"
#include "pipecut/error.h"
#include "pipecut/slicer.h"
#include "support/test_support.h"

namespace pipecut {
namespace {

using testing::coral_model;

void expect_same_boundary(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.shape, b.shape) << a.name;
  EXPECT_EQ(a.type, b.type) << a.name;
  EXPECT_EQ(a.quant, b.quant) << a.name;
}

// Cuts at every usable candidate (or every k-th), written and read back.
void check_split(const Model& m, int max_tensors, size_t step) {
  const Graph g(m);
  CandidateOptions options;
  options.max_tensors = max_tensors;
  options.require_edgetpu_op = false;
  std::vector<int> cuts;
  size_t i = 0;
  for (const auto& c : find_cut_candidates(m, g, options)) {
    if (i++ % step == 0) cuts.push_back(c.position);
  }
  const auto plans = plan_segments(m, g, cuts);
  ASSERT_EQ(plans.size(), cuts.size() + 1);
  int next_op = 0;
  int64_t params = 0;
  std::map<std::string, const Tensor*> produced;  // boundary tensors seen as outputs so far
  for (int t : m.inputs()) produced[m.tensor(t).name] = &m.tensor(t);
  std::vector<Model> files;
  for (const auto& plan : plans) {
    EXPECT_EQ(plan.first_op, next_op);
    next_op = plan.last_op + 1;
    params += plan.param_bytes;
    files.push_back(Model::from_bytes(write_segment(m, plan), "segment"));
    const Model& seg = files.back();
    ASSERT_EQ(seg.ops().size(), static_cast<size_t>(plan.op_count()));
    for (int k = 0; k < plan.op_count(); ++k) {
      EXPECT_EQ(seg.ops()[static_cast<size_t>(k)].builtin_code,
                m.ops()[static_cast<size_t>(plan.first_op + k)].builtin_code);
    }
    ASSERT_EQ(seg.inputs().size(), plan.inputs.size());
    for (size_t k = 0; k < plan.inputs.size(); ++k) {
      const Tensor& in = seg.tensor(seg.inputs()[k]);
      expect_same_boundary(m.tensor(plan.inputs[k]), in);
      ASSERT_TRUE(produced.count(in.name)) << in.name << " is read before any segment makes it";
      expect_same_boundary(*produced[in.name], in);
    }
    ASSERT_EQ(seg.outputs().size(), plan.outputs.size());
    for (size_t k = 0; k < plan.outputs.size(); ++k) {
      const Tensor& out = seg.tensor(seg.outputs()[k]);
      expect_same_boundary(m.tensor(plan.outputs[k]), out);
      produced[out.name] = &out;
    }
  }
  EXPECT_EQ(next_op, static_cast<int>(m.ops().size()));
  int64_t total = 0;
  for (int64_t b : op_param_bytes(m)) total += b;
  EXPECT_EQ(params, total);
  // Every model output comes out of some segment.
  for (int t : m.outputs()) EXPECT_TRUE(produced.count(m.tensor(t).name)) << m.tensor(t).name;
}

TEST(Slice, EveryRealModelAtEveryCandidate) {
  for (const std::string& file : testing::coral_splittable_models()) {
    SCOPED_TRACE(file);
    const Model m = Model::load(coral_model(file));
    check_split(m, 1, 1);
    check_split(m, 1, 3);
  }
}

TEST(Slice, MultiTensorCutsOnBranchyModels) {
  for (const std::string& file :
       {std::string("deeplabv3_mnv2_dm05_pascal_quant.tflite"), std::string("split_concat.tflite"),
        std::string("mobilenet_v2_1.0_224_quant.tflite")}) {
    SCOPED_TRACE(file);
    check_split(Model::load(coral_model(file)), 6, 2);
  }
}

TEST(Slice, TailHoldsTheRest) {
  const Model m = Model::load(coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  const Graph g(m);
  const auto candidates = find_cut_candidates(m, g);
  const int cut = candidates[candidates.size() / 2].position;
  const auto tail = plan_op_range(m, g, cut + 1, static_cast<int>(m.ops().size()) - 1);
  const Model file = Model::from_bytes(write_segment(m, tail), "tail");
  EXPECT_EQ(file.outputs().size(), m.outputs().size());
  EXPECT_EQ(file.tensor(file.outputs()[0]).name, m.tensor(m.outputs()[0]).name);
  ASSERT_EQ(file.inputs().size(), 1u);
  EXPECT_EQ(file.tensor(file.inputs()[0]).name,
            m.tensor(candidates[candidates.size() / 2].tensors[0]).name);
}

TEST(Slice, TensorRange) {
  const Model m = Model::load(coral_model("mobilenet_v2_1.0_224_quant.tflite"));
  const Graph g(m);
  const int from = find_tensor(m, g, "expanded_conv_2/add");
  const int to = find_tensor(m, g, "expanded_conv_4/add");
  const auto plan = plan_tensor_range(m, g, from, to);
  EXPECT_EQ(plan.inputs, std::vector<int>{from});
  EXPECT_EQ(plan.outputs, std::vector<int>{to});
  EXPECT_THROW(plan_tensor_range(m, g, to, from), Error);
}

}  // namespace
}  // namespace pipecut
