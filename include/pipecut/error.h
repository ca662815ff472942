#pragma once
// The one exception type of the library: its message is a single line that names the file (or
// the option) and what is wrong, ready to print as is.
#include <stdexcept>
#include <string>

namespace pipecut {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace pipecut
