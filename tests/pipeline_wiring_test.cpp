// Wiring a pipeline by tensor name at construction: which tensors are its inputs and outputs and
// in what order, what rides along, and the errors that name the stage and the tensor when the
// stages do not fit together.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "pipecut/error.h"
#include "pipecut/pipeline.h"
#include "support/pipeline_fakes.h"

namespace pipecut {
namespace {

using testing::names;
using testing::tensor_value;
using testing::with_capacity;

TensorSpec spec(const std::string& name, std::vector<int32_t> shape = {1, 2},
                DType type = DType::kInt8) {
  return testing::tensor_spec(name, std::move(shape), type);
}

// Each output is the byte-wise sum of all inputs plus `bias`, so a result shows what was wired.
class SumStage : public Executable {
 public:
  SumStage(std::vector<TensorSpec> in, std::vector<TensorSpec> out, int bias)
      : in_(std::move(in)), out_(std::move(out)), bias_(bias) {}
  const std::vector<TensorSpec>& inputs() const override { return in_; }
  const std::vector<TensorSpec>& outputs() const override { return out_; }
  std::vector<TensorValue> run(const std::vector<TensorValue>& inputs) override {
    std::vector<uint8_t> sum(2, static_cast<uint8_t>(bias_));
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].name != in_[i].name) throw Error("got '" + inputs[i].name + "'");
      for (size_t k = 0; k < 2; ++k) sum[k] = static_cast<uint8_t>(sum[k] + inputs[i].data[k]);
    }
    std::vector<TensorValue> out;
    for (const TensorSpec& s : out_) out.push_back(tensor_value(s.name, sum));
    return out;
  }
  std::string backend() const override { return "fake"; }

 private:
  std::vector<TensorSpec> in_, out_;
  int bias_;
};

struct StageDef {
  std::vector<TensorSpec> in, out;
  int bias = 0;
};

std::vector<std::unique_ptr<Executable>> make(const std::vector<StageDef>& defs) {
  std::vector<std::unique_ptr<Executable>> stages;
  for (const StageDef& d : defs) stages.push_back(std::make_unique<SumStage>(d.in, d.out, d.bias));
  return stages;
}

// Options with one field set (g++ 12 rejects partial designated initializers under -Wextra).
Pipeline::Options stage_names(std::vector<std::string> names) {
  Pipeline::Options o;
  o.stage_names = std::move(names);
  return o;
}
Pipeline::Options stage_costs(std::vector<double> costs) {
  Pipeline::Options o;
  o.stage_costs = std::move(costs);
  return o;
}
Pipeline::Options inputs(std::vector<std::string> names) {
  Pipeline::Options o;
  o.inputs = std::move(names);
  return o;
}
Pipeline::Options outputs(std::vector<std::string> names) {
  Pipeline::Options o;
  o.outputs = std::move(names);
  return o;
}

std::string construction_error(const std::vector<StageDef>& defs,
                               const Pipeline::Options& options = {}) {
  try {
    Pipeline pipeline(make(defs), options);
  } catch (const Error& e) {
    return e.what();
  }
  return "constructed";
}

// One frame through a fresh pipeline.
std::vector<TensorValue> run_once(Pipeline& pipeline, std::vector<TensorValue> inputs) {
  pipeline.push(std::move(inputs));
  pipeline.push_end();
  std::vector<TensorValue> out = pipeline.pop().value();
  EXPECT_FALSE(pipeline.pop().has_value());
  return out;
}

TEST(PipelineWiring, DefaultInputsAndOutputsFollowTheStages) {
  // 0: a, b -> c, early      1: c -> d      2: d, a -> e, f
  // "a" rides through stage 1 to stage 2; "early" is read by no stage, so it is an output,
  // produced before the last stage's outputs e and f.
  Pipeline pipeline(make({{{spec("a"), spec("b")}, {spec("c"), spec("early")}, 0},
                          {{spec("c")}, {spec("d")}, 10},
                          {{spec("d"), spec("a")}, {spec("e"), spec("f", {2})}, 100}}));
  EXPECT_EQ(pipeline.stage_count(), 3u);
  EXPECT_EQ(names(pipeline.inputs()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(names(pipeline.outputs()), (std::vector<std::string>{"early", "e", "f"}));
  EXPECT_EQ(pipeline.outputs()[2].shape, (std::vector<int32_t>{2}));  // the producer's spec

  const auto out = run_once(pipeline, {tensor_value("a", {1, 2}), tensor_value("b", {3, 4})});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].name, "early");
  EXPECT_EQ(out[0].data, (std::vector<uint8_t>{4, 6}));  // a + b
  EXPECT_EQ(out[1].name, "e");
  EXPECT_EQ(out[1].data, (std::vector<uint8_t>{115, 118}));  // (a + b + 10) + a + 100
  EXPECT_EQ(out[2].name, "f");
}

TEST(PipelineWiring, ExplicitInputsFeedALaterStage) {
  // "y" is a model input that only the second stage reads.
  Pipeline pipeline(make({{{spec("x")}, {spec("h")}, 1}, {{spec("h"), spec("y")}, {spec("z")}, 0}}),
                    inputs({"y", "x"}));
  EXPECT_EQ(names(pipeline.inputs()), (std::vector<std::string>{"y", "x"}));
  const auto out = run_once(pipeline, {tensor_value("y", {10, 20}), tensor_value("x", {1, 2})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, (std::vector<uint8_t>{12, 23}));
}

TEST(PipelineWiring, ExplicitOutputsPickAndOrder) {
  // Outputs may be a pipeline input, an intermediate that a later stage also reads, or any
  // stage output; an output that nobody asked for is dropped.
  Pipeline pipeline(
      make({{{spec("x")}, {spec("h"), spec("unused")}, 1}, {{spec("h")}, {spec("z")}, 1}}),
      outputs({"z", "x", "h"}));
  EXPECT_EQ(names(pipeline.outputs()), (std::vector<std::string>{"z", "x", "h"}));
  const auto out = run_once(pipeline, {tensor_value("x", {5, 6})});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].data, (std::vector<uint8_t>{7, 8}));
  EXPECT_EQ(out[1].data, (std::vector<uint8_t>{5, 6}));
  EXPECT_EQ(out[2].data, (std::vector<uint8_t>{6, 7}));
}

TEST(PipelineWiring, MissingTensorNamesTheStageAndTheTensor) {
  EXPECT_EQ(
      construction_error({{{spec("x")}, {spec("h")}}, {{spec("h"), spec("zzz")}, {spec("z")}}},
                         stage_names({"seg1", "seg2"})),
      "pipeline stage 1 (seg2): input 'zzz' is neither a pipeline input nor an output of an "
      "earlier stage");
  // A later stage's output does not count: the order of the stages matters.
  EXPECT_EQ(construction_error({{{spec("x")}, {spec("h")}},
                                {{spec("late")}, {spec("z")}},
                                {{spec("h")}, {spec("late")}}}),
            "pipeline stage 1: input 'late' is neither a pipeline input nor an output of an "
            "earlier stage");
  // Explicit inputs replace the default ones.
  EXPECT_EQ(construction_error({{{spec("x")}, {spec("h")}}}, inputs({"q"})),
            "pipeline stage 0: input 'x' is neither a pipeline input nor an output of an earlier "
            "stage");
}

TEST(PipelineWiring, ConflictsAreRefused) {
  EXPECT_EQ(
      construction_error(
          {{{spec("x")}, {spec("h")}}, {{spec("h")}, {spec("h2")}}, {{spec("h2")}, {spec("h")}}}),
      "pipeline stage 2: output 'h' is already an output of pipeline stage 0");
  EXPECT_EQ(construction_error({{{spec("x")}, {spec("x")}}}),
            "pipeline stage 0: output 'x' is already a pipeline input");
  EXPECT_EQ(construction_error({{{spec("x"), spec("x")}, {spec("h")}}}),
            "pipeline stage 0: input 'x' appears twice");
  EXPECT_EQ(construction_error({{{spec("x")}, {spec("h"), spec("h")}}}),
            "pipeline stage 0: output 'h' appears twice");
  EXPECT_EQ(
      construction_error({{{spec("x")}, {spec("h", {1, 2})}}, {{spec("h", {1, 3})}, {spec("z")}}}),
      "pipeline stage 1: input 'h' is INT8 [1,3] but pipeline stage 0 gives INT8 [1,2]");
  EXPECT_EQ(construction_error(
                {{{spec("x")}, {spec("h")}}, {{spec("h", {1, 2}, DType::kUInt8)}, {spec("z")}}}),
            "pipeline stage 1: input 'h' is UINT8 [1,2] but pipeline stage 0 gives INT8 [1,2]");
  // Two stages reading one pipeline input must agree on it too.
  EXPECT_EQ(
      construction_error({{{spec("x")}, {spec("h")}}, {{spec("h"), spec("x", {4})}, {spec("z")}}}),
      "pipeline stage 1: input 'x' is INT8 [4] but the pipeline input gives INT8 [1,2]");
  // A dynamic dimension matches any size.
  EXPECT_EQ(construction_error({{{spec("x")}, {spec("h", {-1, 2})}}, {{spec("h")}, {spec("z")}}}),
            "constructed");
}

TEST(PipelineWiring, BadOptionsAndStagesAreRefused) {
  EXPECT_EQ(construction_error({}), "pipeline: needs at least one stage");
  std::vector<std::unique_ptr<Executable>> with_null = make({{{spec("x")}, {spec("h")}}});
  with_null.push_back(nullptr);
  try {
    Pipeline pipeline(std::move(with_null));
    ADD_FAILURE() << "constructed";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "pipeline: stage 1 is null");
  }
  const std::vector<StageDef> one = {{{spec("x")}, {spec("h")}}};
  EXPECT_EQ(construction_error(one, with_capacity(0)),
            "pipeline: queue_capacity must be at least 1");
  EXPECT_EQ(construction_error(one, stage_names({"a", "b"})),
            "pipeline: 2 stage names for 1 stages");
  EXPECT_EQ(construction_error(one, inputs({"x", "x"})), "pipeline: input 'x' is listed twice");
  EXPECT_EQ(construction_error(one, inputs({"x", "spare"})),
            "pipeline: input 'spare' is read by no stage");
  EXPECT_EQ(construction_error(one, outputs({"nope"})),
            "pipeline: output 'nope' is neither a pipeline input nor an output of a stage");
  EXPECT_EQ(construction_error(one, outputs({"h", "h"})), "pipeline: output 'h' is listed twice");

  const std::vector<StageDef> two = {{{spec("x")}, {spec("h")}}, {{spec("h")}, {spec("z")}}};
  EXPECT_EQ(construction_error(two, stage_costs({1.0})), "pipeline: 1 stage costs for 2 stages");
  EXPECT_EQ(construction_error(two, stage_costs({1.0, 2.0, 3.0})),
            "pipeline: 3 stage costs for 2 stages");
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    const std::string message = construction_error(two, stage_costs({1.0, bad}));
    EXPECT_NE(message.find("pipeline: stage 1's cost"), std::string::npos) << message;
    EXPECT_NE(message.find("is not a positive finite number"), std::string::npos) << message;
  }
  EXPECT_EQ(construction_error(two, stage_costs({1.0, 2.0})), "constructed");
}

}  // namespace
}  // namespace pipecut
