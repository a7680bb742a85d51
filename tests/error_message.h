#pragma once
// Test helper: the message of the ipbench::Error that f() throws (the test fails when it throws none).
#include <catch2/catch.hpp>

#include <string>

#include "core/error.h"

namespace ipbench::testing {

template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("expected ipbench::Error");
  return "";
}

}  // namespace ipbench::testing
