// Tests for noise on the device (issue 17): the portable Philox/Box-Muller arithmetic (core/philox.h)
// and, on a CUDA machine, GPU draws against CPU draws for every design.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/philox.h"
#include "core/rng.h"
#include "noise/designs.h"
#include "noise/device.h"
#include "noise/noise_stream.h"

using namespace ipbench;

namespace {

std::shared_ptr<const NoiseDesign> make_design(const std::string& name, const std::string& options) {
  register_builtin_designs();
  auto cfg = Config::from_string("[noise]\n" + options, "test");
  return design_registry().get(name).make(cfg.section("noise"));
}

// Every design to compare: the built-ins with non-default options, then every other registered design
// with its defaults (designs added later are covered as long as their defaults construct).
std::vector<std::pair<std::string, std::shared_ptr<const NoiseDesign>>> all_designs() {
  std::vector<std::pair<std::string, std::shared_ptr<const NoiseDesign>>> out{
      {"iid", make_design("iid", "")},
      {"antithetic", make_design("antithetic", "")},
      {"repulsive K=3", make_design("repulsive", "K = 3\n")},
      {"coupling 3x2", make_design("coupling", "matrix = 0.6 0.8 | 0.6 -0.8 | 1 0\n")},
      {"rqmc none", make_design("rqmc", "m = 2\nembedding = none\ns = 5\nqmc_draws = 2\n")},
      {"rqmc dct", make_design("rqmc", "m = 2\ns = 12\n")},
  };
  for (const auto& name : design_registry().names()) {
    if (name == "iid" || name == "antithetic" || name == "repulsive" || name == "coupling" || name == "rqmc") continue;
    try {
      out.emplace_back(name, make_design(name, ""));
    } catch (const std::exception& e) {
      WARN("design " << name << " has no default options (" << e.what() << "): not compared");
    }
  }
  return out;
}

double ulp_distance(double a, double b) {
  int64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  return std::abs(static_cast<double>(x - y));
}

}  // namespace

TEST_CASE("noise device: the portable log is within 2 ulp and sin/cos within 2^-52 of long-double references", "[noise][device]") {
  const long double two_pi = 6.283185307179586476925286766559L;
  double worst_log = 0, worst_sin = 0, worst_cos = 0;
  for (uint64_t j = 0; j < 200000; ++j) {
    uint32_t w[4];
    philox::block(2024, j, w);
    const double u1 = philox::to_unit(w[0], w[1]), u2 = philox::to_unit(w[2], w[3]);
    worst_log = std::max(worst_log, ulp_distance(philox::log_positive(u1), static_cast<double>(std::log(static_cast<long double>(u1)))));
    double s, c;
    philox::sincos_turn(u2, s, c);
    // Absolute error: near a zero crossing the long-double reference itself is only accurate to
    // about 2^-64 * 2 pi in absolute terms, so relative ulps would measure the reference.
    const long double angle = two_pi * static_cast<long double>(u2);
    worst_sin = std::max(worst_sin, static_cast<double>(std::fabs(s - std::sin(angle))));
    worst_cos = std::max(worst_cos, static_cast<double>(std::fabs(c - std::cos(angle))));
  }
  CHECK(worst_log <= 2);
  CHECK(worst_sin <= 0x1.0p-52);  // 2 ulp of 1
  CHECK(worst_cos <= 0x1.0p-52);
  // Exact quarter turns and the extremes of the open interval.
  double s, c;
  philox::sincos_turn(0.25, s, c);
  CHECK(s == 1.0);
  CHECK(c == 0.0);
  philox::sincos_turn(0.5, s, c);
  CHECK(c == -1.0);
  CHECK(philox::log_positive(1.0) == 0.0);
  CHECK(std::abs(philox::log_positive(0x1.0p-54) - (-54 * std::log(2.0))) < 1e-13);
}

TEST_CASE("noise device: keyed normals are standard normal and the Box-Muller pair order is (cos, sin)", "[noise][device]") {
  const auto z = keyed_normal({400000}, 77, torch::kDouble);
  CHECK(std::abs(z.mean().item<double>()) < 0.01);
  CHECK(std::abs(z.var().item<double>() - 1.0) < 0.01);
  double a, b;
  philox::normal_pair(77, 0, a, b);
  CHECK(z[0].item<double>() == a);
  CHECK(z[1].item<double>() == b);
  uint32_t w[4];
  philox::block(77, 0, w);
  const double r = std::sqrt(-2.0 * std::log(philox::to_unit(w[0], w[1])));
  const double t = 2 * M_PI * philox::to_unit(w[2], w[3]);
  CHECK(a == Approx(r * std::cos(t)).margin(1e-12));
  CHECK(b == Approx(r * std::sin(t)).margin(1e-12));
}

TEST_CASE("noise device: a CPU NoiseDeviceScope changes nothing and scopes nest", "[noise][device]") {
  CHECK(noise_device().is_cpu());
  const auto plain = group_base_normals(9, 2, 3, 1, 2, {3, 5}, torch::kFloat);
  {
    const NoiseDeviceScope scope(torch::kCPU);
    CHECK(torch::equal(group_base_normals(9, 2, 3, 1, 2, {3, 5}, torch::kFloat), plain));
    {
      const NoiseDeviceScope inner(torch::Device(torch::kCUDA, 0));
      CHECK(noise_device().is_cuda());
    }
    CHECK(noise_device().is_cpu());
  }
  // Row g of the base draw is fill_normal of its own key (stream, group, draw).
  const auto row = keyed_normal({2 * 3 * 5}, derive_key(9, 3, 1));
  CHECK(torch::equal(plain[1].flatten(), row));
}

TEST_CASE("noise device: GPU draws equal CPU draws for every design", "[noise][device][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: skipped");
    return;
  }
  if (!cuda_noise_kernel_built()) WARN("CUDA LibTorch without the noise kernel: comparing the copied CPU fallback");
  const torch::Device gpu(torch::kCUDA, 0);
  for (const auto& [label, design] : all_designs()) {
    // rqmc with the DCT embedding multiplies by DCT matrices (a BLAS product whose summation order
    // differs between devices): equal to rounding. Everything else is bitwise.
    // A design registered later (not in the built-in list) is compared to rounding.
    const bool builtin = label.find(' ') != std::string::npos || label == "iid" || label == "antithetic";
    const bool bitwise = builtin && label != "rqmc dct";
    for (const auto dtype : {torch::kFloat, torch::kDouble}) {
      for (const std::vector<int64_t>& shape : {std::vector<int64_t>{3, 16, 16}, std::vector<int64_t>{1, 5, 7}}) {
        NoiseStream cpu(design, 1234, 3, 2, torch::kCPU, dtype), dev(design, 1234, 3, 2, gpu, dtype);
        for (int draw = 0; draw < 3; ++draw) {
          INFO(label << " dtype " << dtype << " shape " << shape << " draw " << draw);
          const auto a = cpu.gaussian(shape);
          const auto b = dev.gaussian(shape);
          REQUIRE(b.device().is_cuda());
          REQUIRE(b.scalar_type() == dtype);
          const auto diff = (a - b.cpu()).abs().max().item<double>();
          if (bitwise) {
            CHECK(torch::equal(a, b.cpu()));
          } else {
            CHECK(diff <= (dtype == torch::kDouble ? 1e-12 : 1e-5));
          }
        }
      }
    }
  }
}

TEST_CASE("noise device: a 16 x 3 x 256 x 256 GPU draw equals the CPU draw bitwise", "[noise][device][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: skipped");
    return;
  }
  const auto design = make_design("iid", "");
  NoiseStream cpu(design, 99, 0, 16, torch::kCPU), dev(design, 99, 0, 16, torch::Device(torch::kCUDA, 0));
  const auto a = cpu.gaussian({3, 256, 256});
  const auto b = dev.gaussian({3, 256, 256}).cpu();
  CHECK(torch::equal(a, b));
}
