#pragma once
// What the fuzz targets share: one case either succeeds or is refused with a message; anything
// else is a finding, reported on stderr and turned into an abort that libFuzzer records.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <string>

#include "pipecut/error.h"

namespace pipecut::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "finding: %s\n", what.c_str());
  std::abort();
}

// Runs `body`: success, a pipecut::Error (a refusal with a message) and std::bad_alloc (memory
// the file asks for that the machine lacks; the command line reports it in one line) pass.
template <typename Body>
int run_case(Body&& body) {
  try {
    body();
  } catch (const pipecut::Error&) {
  } catch (const std::bad_alloc&) {
  } catch (const std::exception& e) {
    finding(std::string("not a pipecut::Error: ") + e.what());
  }
  return 0;
}

}  // namespace pipecut::fuzz
