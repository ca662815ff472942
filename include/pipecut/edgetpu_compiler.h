#pragma once
// The Edge TPU compiler (`edgetpu_compiler`) seen from pipecut: what it prints, parsed into
// figures, and running it over every file of a split tree.
//
// pipecut never links the compiler: it runs it as a program (found on PATH or given), so a
// machine without it still builds, and tests use a stand-in executable.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipecut/progress.h"
#include "pipecut/split_tree.h"

namespace pipecut {

// One row of the compiler's operator table ("CONV_2D  24  Mapped to Edge TPU").
struct CompilerOperator {
  std::string op;
  int count = 0;
  std::string status;
};

// What the compiler printed about one model. A figure it did not print stays empty.
struct CompiledModelReport {
  std::string input_model, output_model, operation_log;  // as printed (paths or names)
  std::optional<int64_t> input_bytes, output_bytes;      // "Input size: 8.00MiB"
  std::optional<int64_t> on_chip_used;                   // parameters cached on chip
  std::optional<int64_t> on_chip_remaining;              // compilers 15, 16
  std::optional<int64_t> on_chip_available;              // compilers 2.x print this instead
  std::optional<int64_t> off_chip_used;                  // streamed on every inference
  std::optional<int> subgraphs, total_ops, ops_on_tpu, ops_on_cpu;
  std::vector<CompilerOperator> operators;
  // Every memory and operation figure the compiler prints for a model was found, and the
  // operator table (if any) has no cut-short row.
  bool complete = false;
};

// Everything one run of the compiler printed (standard output and error together), or an
// operation log file (`<stem>_edgetpu.log`: version, Input:, Output:, operator table).
struct CompilerOutput {
  std::string version;                      // "16.0.384591198"; empty when not printed
  bool compiled = false;                    // it said a model compiled successfully
  std::vector<std::string> failures;        // each reason after "Compilation failed: "
  std::vector<CompiledModelReport> models;  // one per model block; several when co-compiled
  // False when the text was cut short: a model block or operator table without its end, a
  // compilation started but never finished, a known sentence cut mid-line. `gaps` says which.
  bool complete = true;
  std::vector<std::string> gaps;
};

// Never throws on odd text: unknown lines are skipped, what is missing is reported in `gaps`.
CompilerOutput parse_compiler_output(std::string_view text);

// "7.16MiB", "2.25KiB", "0.00B" as the compiler prints them; empty when not such a size.
std::optional<int64_t> parse_compiler_size(std::string_view text);

// --- Running the compiler over a split tree -------------------------------------------------

struct CompileOptions {
  std::filesystem::path compiler;  // empty: `edgetpu_compiler` on PATH
  int jobs = 1;                    // compiler runs at once
  double timeout_seconds = 600;    // per run; the run is killed after it
  // Compile the files of each folder in one run, as models sharing one TPU's parameter cache.
  bool cocompile = false;
  ProgressFn progress;  // may be empty
};

// The outcome for one .tflite of the tree. Paths are relative to the tree's folder of the file.
struct FileCompileResult {
  std::string folder;  // "full_split", "pairs_k3"
  std::string file;    // "tflite/seg1_int8.tflite"
  bool ok = false;
  std::string failure;  // why not ok: "timed out after 600 s", "exit status 1: <reason>", ...
  std::string compiler_version;
  CompiledModelReport report;  // the figures the compiler printed for this file
  bool report_complete = false;
  std::string output, log, transcript;  // "tpu/seg1_int8_edgetpu.tflite", ".log", "_compile.txt"
  // For a file byte-identical to one compiled in another folder: that file ("../full_split/
  // tflite/seg1_int8.tflite"); its compiled files are hard links here, under this file's stem.
  std::string compiled_as;
  double seconds = 0;
};

struct TreeCompileResult {
  std::filesystem::path compiler;
  std::vector<FileCompileResult> files;  // in the tree's order: folders, then files
  int failed() const;
};

// The compiler to run: `given` if not empty (must be an executable file), else the first
// `edgetpu_compiler` on PATH. Throws pipecut::Error in one line when there is none.
std::filesystem::path find_edgetpu_compiler(const std::filesystem::path& given = {});

// Compiles every .tflite of the tree into each folder's tpu/: `<stem>_edgetpu.tflite`, the
// compiler's `<stem>_edgetpu.log` and `<stem>_compile.txt` (command line, exit status, all it
// printed), and records the parsed figures under "edgetpu" in each file's entry of the folder's
// meta.json (marked "source": "compiled"). Hard links to one file (a prefix segment in several
// folders, as split writes it) are compiled once unless co-compiling. A run that fails, crashes, hangs past the
// timeout or writes no model is recorded as that file's failure; the others go on. Every file is
// written atomically. Throws pipecut::Error only for what stops the whole job (no compiler, a
// tree it cannot read).
TreeCompileResult compile_split_tree(const SplitTree& tree, const CompileOptions& options);

}  // namespace pipecut
