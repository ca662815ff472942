#pragma once
// Running another program (the Edge TPU compiler) with a time limit, capturing what it prints.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace pipecut {

struct ProcessResult {
  int exit_status = -1;  // the program's exit status; -1 when it did not exit normally
  int signal = 0;        // the signal that ended it, 0 when it exited
  bool timed_out = false;
  double timeout_seconds = 0;  // the limit it was given
  bool failed_to_start = false;
  bool output_truncated = false;  // printed more than `max_output` bytes; the rest was dropped
  std::string output;             // standard output and standard error, interleaved
  double seconds = 0;
  // "exit status 1", "killed by signal 11 (Segmentation fault)", "timed out after 600 s",
  // "could not start: No such file or directory"; empty when it exited with status 0.
  std::string failure() const;
};

// Runs argv[0] (a path, not searched on PATH) with the arguments argv[1..] in `cwd`, standard
// input from /dev/null, in a process group of its own; after `timeout_seconds` the whole group is
// killed. A SIGINT or SIGTERM to this process kills the groups still running, then ends this
// process as the signal would have (the handler is installed on the first call). Never throws
// for the program's failures; they are in the result. Thread-safe.
ProcessResult run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                          double timeout_seconds, size_t max_output = 16 << 20);

}  // namespace pipecut
