// pipecut zoo NAME -o FILE: standard architectures as INT8 TFLite models, built in C++.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/table.h"
#include "pipecut/error.h"
#include "pipecut/json.h"
#include "pipecut/layout.h"
#include "pipecut/progress.h"
#include "pipecut/sizes.h"
#include "pipecut/zoo.h"

namespace pipecut::cli {

namespace {
struct ZooArgs {
  std::string name, output;
  uint64_t seed = 1;
  bool list = false;
  bool force = true;
  bool json = false;
};
}  // namespace

void add_zoo(CLI::App& app) {
  auto args = std::make_shared<ZooArgs>();
  CLI::App* cmd = app.add_subcommand(
      "zoo", "Write a built-in INT8 model (resnet50, resnet101, mobilenet_v2, unet, ...)");
  cmd->add_option("name", args->name, "model name (see --list)");
  cmd->add_option("-o,--output", args->output, "output .tflite file");
  cmd->add_option("--seed", args->seed, "weight seed")->capture_default_str();
  cmd->add_flag("--list", args->list, "list the models");
  cmd->add_flag("--json", args->json, "with --list: print JSON");
  cmd->callback([args] {
    if (args->list) {
      if (args->json) {
        nlohmann::ordered_json j = nlohmann::ordered_json::array();
        for (const auto& name : zoo_model_names())
          j.push_back({{"name", name}, {"summary", zoo_model_summary(name)}});
        std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return;
      }
      Table table({"name", "what it is"});
      for (const auto& name : zoo_model_names()) table.add({name, zoo_model_summary(name)});
      table.print(std::cout, "");
      return;
    }
    if (args->name.empty() || args->output.empty()) {
      throw Error("zoo: give a model name and -o FILE (or --list)");
    }
    ZooOptions options;
    options.seed = args->seed;
    ProgressBar bar(true);
    const auto bytes = with_progress(bar, "building " + args->name,
                                     [&] { return build_zoo_model(args->name, options); });
    write_model_file(args->output, bytes, /*force=*/true);
    std::cout << args->output << ": " << args->name << " ("
              << format_size(static_cast<int64_t>(bytes.size())) << ")\n";
  });
}

}  // namespace pipecut::cli
