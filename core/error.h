#pragma once
// Errors: the one exception type for user and configuration mistakes.
//
// Three kinds of failure, three treatments (docs/ARCHITECTURE.md):
//  * a user/config error (bad file, unknown key, invalid option, incompatible pair) throws
//    ipbench::Error; the CLI prints its message and exits with code 2;
//  * a broken internal invariant uses TORCH_CHECK (a bug, not the user's fault);
//  * a numerical failure of one sample (NaN, divergence) is recorded in that sample's record.
// Library code never calls exit().
#include <sstream>
#include <stdexcept>
#include <string>

namespace ipbench {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Concatenates its arguments with operator<< into one message.
template <class... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

/// Throws ipbench::Error with the concatenated message when `cond` is false.
template <class... Args>
void require(bool cond, const Args&... args) {
  if (!cond) throw Error(str_cat(args...));
}

/// An exception's message without LibTorch's C++ backtrace ("Exception raised from ..."); TorchScript
/// tracebacks, which say where in the script, are kept.
inline std::string exception_message(const std::exception& e) {
  const std::string what = e.what();
  return what.substr(0, what.find("Exception raised from"));
}

}  // namespace ipbench
