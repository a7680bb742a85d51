// Noise cost: time to generate one draw for a batch of 256x256x3 samples per noise design, as a ratio
// to torch::randn of the same size (noise generation must not be a bottleneck: a UNet step on such a
// batch costs far more). Every design serves G groups of K members with G*K = batch.
//
//   build/bench/bench_noise [reps=5] [batch=16]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/timing.h"
#include "core/config.h"
#include "core/runtime.h"
#include "noise/designs.h"
#include "noise/noise_stream.h"

using namespace ipbench;
using ipbench::bench::median_ms;

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const int64_t batch = argc > 2 ? std::max(16, std::atoi(argv[2])) / 16 * 16 : 16;
  configure_threads(0);  // all cores, as `ipbench run` does
  register_builtin_designs();
  const std::vector<int64_t> shape{3, 256, 256};
  const double randn_ms = median_ms([&] { torch::randn({batch, 3, 256, 256}); }, reps);
  std::printf("threads %d, batch %lld x 3 x 256 x 256 float32, %d reps (median)\n", torch::get_num_threads(),
              static_cast<long long>(batch), reps);
  std::printf("torch::randn: %.2f ms\n\n%-52s %10s %10s\n", randn_ms, "design", "ms", "/randn");
  const std::vector<std::pair<std::string, std::string>> cases{
      {"iid", ""},
      {"antithetic", ""},
      {"repulsive", "K = 4"},
      {"coupling", "matrix = 0.6 0.8 | 0.6 -0.8 | 1 0 | 0 1"},
      {"rqmc", "m = 4"},
      {"rqmc", "m = 4\ns = 3072"},
      {"rqmc", "m = 4\nembedding = none\ns = 192"}};
  for (const auto& [type, options] : cases) {
    auto cfg = Config::from_string("[noise.d]\n" + options, "bench");
    std::shared_ptr<const NoiseDesign> design = design_registry().get(type).make(cfg.section("noise.d"));
    const int64_t groups = batch / design->group_size();
    for (int64_t draw : {int64_t{0}, int64_t{1}}) {
      if (draw == 1 && type != "rqmc") continue;
      const double ms = median_ms(
          [&] {
            NoiseStream s(design, 123, 0, groups);
            for (int64_t i = 0; i < draw; ++i) s.skip();
            s.gaussian(shape);
          },
          reps);
      std::string label = type + (options.empty() ? "" : " (" + options + ")");
      for (char& c : label)
        if (c == '\n') c = ',';
      if (type == "rqmc") label += draw == 0 ? " draw 0 (QMC)" : " draw 1 (iid)";
      std::printf("%-52s %10.2f %10.2f\n", label.c_str(), ms, ms / randn_ms);
    }
  }
  return 0;
}
