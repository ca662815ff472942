#include "support/armnn_reference.h"

#include <armnn/ArmNN.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace pipecut::testing {
namespace {

// Our own failures, already worded; anything else Arm NN throws is wrapped once.
struct ReferenceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::filesystem::path& tflite, const std::string& what) {
  throw ReferenceError("Arm NN reference on " + tflite.string() + ": " + what);
}

std::vector<std::vector<uint8_t>> run(const std::filesystem::path& tflite,
                                      const std::vector<std::vector<uint8_t>>& inputs) {
  armnnTfLiteParser::ITfLiteParserPtr parser = armnnTfLiteParser::ITfLiteParser::Create();
  armnn::INetworkPtr network = parser->CreateNetworkFromBinaryFile(tflite.c_str());
  if (!network) fail(tflite, "the TfLite parser returned no network");
  if (parser->GetSubgraphCount() < 1) fail(tflite, "the model has no subgraph");

  const std::vector<std::string> input_names = parser->GetSubgraphInputTensorNames(0);
  const std::vector<std::string> output_names = parser->GetSubgraphOutputTensorNames(0);
  if (input_names.size() != inputs.size()) {
    fail(tflite, "the model has " + std::to_string(input_names.size()) + " inputs, " +
                     std::to_string(inputs.size()) + " were given");
  }

  armnn::IRuntime::CreationOptions runtime_options;
  armnn::IRuntimePtr runtime = armnn::IRuntime::Create(runtime_options);
  std::vector<std::string> messages;
  armnn::IOptimizedNetworkPtr optimized = armnn::Optimize(
      *network, {armnn::Compute::CpuRef}, runtime->GetDeviceSpec(), armnn::OptimizerOptions(),
      armnn::Optional<std::vector<std::string>&>(messages));
  if (!optimized) {
    std::string all;
    for (const std::string& m : messages) all += (all.empty() ? "" : "; ") + m;
    fail(tflite, "optimizing for CpuRef failed" + (all.empty() ? "" : ": " + all));
  }
  armnn::NetworkId id = 0;
  std::string load_error;
  if (runtime->LoadNetwork(id, std::move(optimized), load_error) != armnn::Status::Success) {
    fail(tflite, "LoadNetwork failed: " + load_error);
  }

  armnn::InputTensors input_tensors;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const armnn::BindingPointInfo binding = parser->GetNetworkInputBindingInfo(0, input_names[i]);
    const armnn::TensorInfo info = runtime->GetInputTensorInfo(id, binding.first);
    if (inputs[i].size() != info.GetNumBytes()) {
      fail(tflite, "input " + std::to_string(i) + " ('" + input_names[i] + "') needs " +
                       std::to_string(info.GetNumBytes()) + " bytes, " +
                       std::to_string(inputs[i].size()) + " were given");
    }
    input_tensors.emplace_back(binding.first, armnn::ConstTensor(info, inputs[i].data()));
  }

  std::vector<std::vector<uint8_t>> outputs(output_names.size());
  armnn::OutputTensors output_tensors;
  for (size_t i = 0; i < output_names.size(); ++i) {
    const armnn::BindingPointInfo binding = parser->GetNetworkOutputBindingInfo(0, output_names[i]);
    const armnn::TensorInfo info = runtime->GetOutputTensorInfo(id, binding.first);
    outputs[i].assign(info.GetNumBytes(), 0);
    output_tensors.emplace_back(binding.first, armnn::Tensor(info, outputs[i].data()));
  }

  if (runtime->EnqueueWorkload(id, input_tensors, output_tensors) != armnn::Status::Success) {
    fail(tflite, "EnqueueWorkload failed");
  }
  runtime->UnloadNetwork(id);
  return outputs;
}

}  // namespace

std::vector<std::vector<uint8_t>> run_armnn_reference(
    const std::filesystem::path& tflite, const std::vector<std::vector<uint8_t>>& inputs) {
  static std::once_flag logging_once;
  std::call_once(logging_once,
                 [] { armnn::ConfigureLogging(true, false, armnn::LogSeverity::Warning); });
  try {
    return run(tflite, inputs);
  } catch (const ReferenceError&) {
    throw;
  } catch (const std::exception& e) {
    fail(tflite, e.what());
  }
}

}  // namespace pipecut::testing
