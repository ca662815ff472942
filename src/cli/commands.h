#pragma once
// Each subcommand registers itself on the app; main() only parses and reports errors.
#include <CLI/CLI.hpp>

namespace pipecut::cli {

void add_inspect(CLI::App& app);
void add_plan(CLI::App& app);
void add_split(CLI::App& app);
void add_slice(CLI::App& app);
void add_zoo(CLI::App& app);
void add_run(CLI::App& app);
void add_verify(CLI::App& app);
void add_pipeline(CLI::App& app);
void add_compile(CLI::App& app);
void add_estimate(CLI::App& app);
void add_simulate(CLI::App& app);
void add_report(CLI::App& app);
void add_dequantize(CLI::App& app);
void add_import(CLI::App& app);
void add_quantize(CLI::App& app);
void add_serve(CLI::App& app);
void add_qreport(CLI::App& app);
void add_infer(CLI::App& app);

}  // namespace pipecut::cli
