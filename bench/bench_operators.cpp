// Operator cost: forward + adjoint time per registered operator at 256x256x3, batch 8 (float32, CPU),
// printed as a ratio to one torch::conv2d (3x3, C -> C channels, padding 1) of the same tensor, so
// that "operators must not dominate a solver step" can be read off directly (a UNet step is hundreds
// of such convolutions). Nonlinear operators report forward + the autograd VJP (what DPS pays).
//
//   build/bench/bench_operators [reps=5]      (run from the repository root for the torchscript entry)
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/timing.h"
#include "core/config.h"
#include "core/rng.h"
#include "operators/operator.h"

using namespace ipbench;
using ipbench::bench::median_ms;

namespace {

struct Case {
  std::string name, ini;
};

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  register_builtin_operators();
  const int64_t B = 8, C = 3, H = 256, W = 256;
  auto x = keyed_normal({B, C, H, W}, 1);
  auto weight = keyed_normal({C, C, 3, 3}, 2) * 0.1;
  const double conv_ms = median_ms([&] { torch::conv2d(x, weight, {}, 1, 1); }, reps);
  std::printf("threads %d, x [%lld, %lld, %lld, %lld] float32, %d reps (median)\n", torch::get_num_threads(),
              static_cast<long long>(B), static_cast<long long>(C), static_cast<long long>(H),
              static_cast<long long>(W), reps);
  std::printf("reference conv2d 3x3 %lld->%lld: %.2f ms\n\n", static_cast<long long>(C), static_cast<long long>(C),
              conv_ms);
  std::printf("%-44s %10s %10s %10s %8s\n", "operator", "build ms", "fwd ms", "adj ms", "/conv");

  std::vector<Case> cases;
  for (const auto& name : operator_registry().names()) cases.push_back({name, ""});
  cases.push_back({"mri", "coils = 8"});
  cases.push_back({"ct", "angles = 8"});
  cases.push_back({"ct", "angles = 120\nangle_max = 120"});
  cases.push_back({"cs", "transform = fft"});
  const std::string classifier = "tests/data/tiny_classifier.pt";
  for (const auto& c : cases) {
    std::string ini = c.ini;
    if (c.name == "torchscript") {
      if (!std::filesystem::exists(classifier)) {
        std::printf("%-44s (skipped: run from the repository root)\n", c.name.c_str());
        continue;
      }
      ini = "path = " + classifier;
    }
    const auto cfg = Config::from_string("[operator." + c.name + "]\n" + ini + "\n", "bench");
    auto builder = operator_registry().get(c.name).parse(cfg.section("operator." + c.name));
    OperatorContext ctx;
    ctx.image_shape = {C, H, W};
    ctx.key = 3;
    const auto t0 = std::chrono::steady_clock::now();
    auto op = builder(ctx);
    const double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    torch::Tensor y;
    const double fwd = median_ms([&] { torch::NoGradGuard g; y = op->forward(x); }, reps);
    double adj = 0;
    if (op->linear()) {
      adj = median_ms([&] { torch::NoGradGuard g; op->adjoint(y); }, reps);
    } else {  // forward + backward through the operator minus the forward alone
      auto v = torch::ones_like(y);
      const double both = median_ms([&] {
        auto xg = x.clone().requires_grad_(true);
        torch::autograd::grad({op->forward(xg)}, {xg}, {v});
      }, reps);
      adj = std::max(0.0, both - fwd);
    }
    std::string label = c.name + (c.ini.empty() ? "" : " [" + c.ini + "]");
    std::replace(label.begin(), label.end(), '\n', ' ');
    std::printf("%-44s %10.1f %10.2f %10.2f %8.2f\n", label.c_str(), build_ms, fwd, adj, (fwd + adj) / conv_ms);
  }
  return 0;
}
