// libFuzzer target: any bytes as a .tflite file through what `pipecut split` does. Reading, the
// graph, the cut candidates (single and multi-tensor), a plan with each algorithm and the writing
// of every segment must either succeed or throw pipecut::Error; and every segment written from a
// file that was accepted must itself read back as a valid model with the ops planned for it.
// Anything else is a finding. Built and run like runtime_fuzzer (`make fuzz FUZZ_TARGET=split`).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_case.h"
#include "pipecut/analysis.h"
#include "pipecut/graph.h"
#include "pipecut/model.h"
#include "pipecut/planner.h"
#include "pipecut/slicer.h"

namespace {

void split_all_ways(const pipecut::Model& model, const pipecut::Graph& graph) {
  int64_t total = 0;
  for (int64_t b : pipecut::op_param_bytes(model)) total += b;
  for (const pipecut::Algorithm algorithm :
       {pipecut::Algorithm::kGreedy, pipecut::Algorithm::kOptimal, pipecut::Algorithm::kBalanced}) {
    pipecut::SplitOptions options;
    options.algorithm = algorithm;
    options.high = total / 2 + 1;  // two segments or more, where the cuts allow it
    options.candidates.max_tensors = 2;
    pipecut::SplitPlan plan;
    try {
      plan = pipecut::plan_split(model, graph, options);
    } catch (const pipecut::Error&) {
      continue;  // no split in that window: a refusal with a message
    }
    for (const pipecut::SegmentPlan& segment :
         pipecut::plan_segments(model, graph, plan.cut_positions)) {
      const std::vector<uint8_t> bytes = pipecut::write_segment(model, segment);
      try {
        const pipecut::Model back = pipecut::Model::from_bytes(bytes, "segment.tflite");
        if (static_cast<int>(back.ops().size()) != segment.op_count())
          pipecut::fuzz::finding("a segment of " + std::to_string(segment.op_count()) +
                                 " ops read back with " + std::to_string(back.ops().size()));
      } catch (const pipecut::Error& e) {
        pipecut::fuzz::finding(std::string("a written segment does not read back: ") + e.what());
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return pipecut::fuzz::run_case([&] {
    const pipecut::Model model =
        pipecut::Model::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.tflite");
    const pipecut::Graph graph(model);
    pipecut::CandidateOptions candidates;
    candidates.max_tensors = 3;
    (void)pipecut::find_cut_candidates(model, graph, candidates);
    split_all_ways(model, graph);
  });
}
