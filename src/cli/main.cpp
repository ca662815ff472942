// pipecut: cut quantized TFLite models into pipelines of segments that fit small accelerators.
#include <iostream>

#include "cli/commands.h"
#include "pipecut/error.h"

int main(int argc, char** argv) {
  CLI::App app{
      "pipecut: cut an 8-bit TFLite model into segments that each fit one small "
      "accelerator (docs/ has a page per command)"};
  app.set_version_flag("--version", "pipecut 0.1.0");
  app.require_subcommand(1);
  pipecut::cli::add_inspect(app);
  pipecut::cli::add_plan(app);
  pipecut::cli::add_split(app);
  pipecut::cli::add_slice(app);
  pipecut::cli::add_zoo(app);
  pipecut::cli::add_run(app);
  pipecut::cli::add_verify(app);
  pipecut::cli::add_pipeline(app);
  pipecut::cli::add_compile(app);
  pipecut::cli::add_estimate(app);
  pipecut::cli::add_simulate(app);
  pipecut::cli::add_report(app);
  pipecut::cli::add_quantize(app);
  pipecut::cli::add_dequantize(app);
  pipecut::cli::add_qreport(app);
  pipecut::cli::add_import(app);
  pipecut::cli::add_serve(app);
  pipecut::cli::add_infer(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const pipecut::Error& e) {
    std::cerr << "pipecut: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "pipecut: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "pipecut: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
