// Solver speed against the physical limit (issue 17): DPS and DDS on a guided-diffusion-architecture
// TorchScript UNet with random weights (scripts/make_guided_unet.py), at one batch size, measured in
// one run and printed as ratios:
//   (a) ipbench's solver vs the prior's bare network at the same batch: forward + backward to the input
//       (DPS's work per step) or forward alone under no-grad (DDS), on the same TorchScript module;
//   (b) ipbench vs a Python PyTorch loop of the same algorithm on the same file
//       (scripts/bench_solvers_loop.py, run as a child process; skipped with --python none);
//   plus each noise design's draw of [batch, 3, H, W] as a fraction of one DPS step, on the stream's
//   device and (for comparison) drawn on the CPU and copied, and the peak CUDA memory per sample.
//
//   build/bench/bench_solvers --model unet64.pt --size 64 [--batch 16] [--steps 10] [--device auto]
//       [--python /usr/bin/python3] [--loop scripts/bench_solvers_loop.py] [--threads 0] [--reps 1]
//       [--images-steps 1000]
//
// A speed ratio is (the other's time per step) / (ipbench's time per step): 1.00 = as fast, 0.95 = ipbench
// 5% slower. Times are medians of --reps runs of --steps steps after a warm-up run of 2 steps (JIT
// profiling runs, cuDNN algorithm choice). images/hour of a --images-steps DPS run are computed from the
// measured step times: ipbench at --batch vs the Python loop at batch 1 (the official loop's design).
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench/timing.h"
#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "models/torchscript_prior.h"
#include "noise/designs.h"
#include "noise/device.h"
#include "noise/noise_stream.h"
#include "operators/operator.h"
#include "solvers/dds.h"
#include "solvers/dps.h"

using namespace ipbench;

namespace {

struct Args {
  std::string model;
  int64_t size = 64;
  int64_t batch = 16;
  int64_t steps = 10;
  std::string device = "auto";
  std::string python = "/usr/bin/python3";
  std::string loop = "scripts/bench_solvers_loop.py";
  int threads = 0;
  int reps = 1;
  int64_t images_steps = 1000;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    require(i + 1 < argc, "bench_solvers: option ", key, " needs a value");
    const std::string v = argv[++i];
    if (key == "--model") a.model = v;
    else if (key == "--size") a.size = std::stoll(v);
    else if (key == "--batch") a.batch = std::stoll(v);
    else if (key == "--steps") a.steps = std::stoll(v);
    else if (key == "--device") a.device = v;
    else if (key == "--python") a.python = v;
    else if (key == "--loop") a.loop = v;
    else if (key == "--threads") a.threads = std::stoi(v);
    else if (key == "--reps") a.reps = std::stoi(v);
    else if (key == "--images-steps") a.images_steps = std::stoll(v);
    else throw Error(str_cat("bench_solvers: unknown option ", key));
  }
  require(!a.model.empty(), "bench_solvers: --model PATH is required (scripts/make_guided_unet.py writes one)");
  require(a.size >= 8 && a.batch >= 1 && a.steps >= 1 && a.reps >= 1, "bench_solvers: size >= 8, batch, steps, reps >= 1");
  return a;
}

void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

/// Median seconds of `reps` calls (after one warm-up call when `warm_up`); each call ends synchronized.
template <class Fn>
double median_seconds(const torch::Device& device, int reps, bool warm_up, Fn&& fn) {
  return bench::median_ms(
             [&] {
               fn();
               sync(device);
             },
             reps, warm_up) /
         1e3;
}

std::shared_ptr<const NoiseDesign> make_design(const std::string& name, const std::string& options) {
  register_builtin_designs();
  const auto cfg = Config::from_string("[noise]\n" + options, "bench_solvers");
  return design_registry().get(name).make(cfg.section("noise"));
}

struct LoopResult {
  double step_ms = NAN, peak_mib = NAN;
};

/// Runs the Python loop and parses its `loop SOLVER batch B step_ms T peak_mib M` lines.
std::map<std::pair<std::string, int64_t>, LoopResult> run_python_loop(const Args& a, const std::string& device,
                                                                      const std::string& batches) {
  std::map<std::pair<std::string, int64_t>, LoopResult> out;
  if (a.python == "none") return out;
  const std::string cmd = str_cat(a.python, " ", a.loop, " --model ", a.model, " --size ", a.size, " --batches ",
                                  batches, " --steps ", a.steps, " --reps ", a.reps, " --device ", device,
                                  " --threads ", a.threads, " 2>&1");
  std::printf("python loop: %s\n", cmd.c_str());
  std::fflush(stdout);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) {
    std::printf("python loop: cannot start\n");
    return out;
  }
  char line[4096];
  while (std::fgets(line, sizeof line, pipe)) {
    std::istringstream in(line);
    std::string tag, solver, kb, ks, km;
    int64_t b = 0;
    LoopResult r;
    if (in >> tag >> solver >> kb >> b >> ks >> r.step_ms >> km >> r.peak_mib && tag == "loop") out[{solver, b}] = r;
    else std::printf("python: %s", line);
  }
  const int rc = pclose(pipe);
  if (rc != 0) std::printf("python loop exited with status %d\n", rc);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    if (a.threads > 0) torch::set_num_threads(a.threads);
    const torch::Device device = resolve_device(a.device);
    const std::vector<int64_t> shape{3, a.size, a.size};
    const int64_t B = a.batch;
    std::printf("bench_solvers: model %s, %lld px, batch %lld, %lld steps, device %s, %d threads, reps %d, noise "
                "kernel %s\n",
                a.model.c_str(), static_cast<long long>(a.size), static_cast<long long>(B),
                static_cast<long long>(a.steps), device.str().c_str(), torch::get_num_threads(), a.reps,
                cuda_noise_kernel_built() ? "CUDA" : "CPU");

    // The prior and the problem: box inpainting (DPS's FFHQ task), y = A(x) for a keyed image.
    const auto prior = std::make_shared<TorchScriptPrior>(a.model, VpSchedule::linear(), TorchScriptPrior::LearnedVariance::kAuto,
                                                          shape, device);
    register_builtin_operators();
    const auto op_cfg = Config::from_string("[op]\ntype = inpaint\nmode = box\nsigma_y = 0.05\n", "bench_solvers");
    const auto op = operator_registry().get("inpaint").parse(op_cfg.section("op"))(
        OperatorContext{shape, 17, device, torch::kFloat});
    const auto x_true = (0.6 * torch::tanh(keyed_normal({1, 3, a.size, a.size}, 5))).to(device);
    const Problem problem{*prior, *op, op->forward(x_true).detach()};
    const auto iid = make_design("iid", "");

    DpsOptions dps_o;
    dps_o.chain.steps = a.steps;
    DdsOptions dds_o;
    dds_o.steps = a.steps;
    const DpsSolver dps(dps_o);
    const DdsSolver dds(dds_o);
    DpsOptions warm_dps = dps_o;
    warm_dps.chain.steps = 2;
    DdsOptions warm_dds = dds_o;
    warm_dds.steps = 2;

    auto solve = [&](const Solver& s, uint64_t key) {
      NoiseStream noise(iid, key, 0, B, device);
      return s.solve(problem, noise);
    };
    // Warm-up (JIT profiling runs, cuDNN algorithms), then the timed runs.
    solve(DpsSolver(warm_dps), 1);
    solve(DdsSolver(warm_dds), 1);
    sync(device);
    cuda_peak_allocated_bytes(device, true);
    const double dps_s = median_seconds(device, a.reps, false, [&] { solve(dps, 2); }) / static_cast<double>(a.steps);
    const int64_t dps_peak = cuda_peak_allocated_bytes(device, true);
    const double dds_s = median_seconds(device, a.reps, false, [&] { solve(dds, 3); }) / static_cast<double>(a.steps);
    const int64_t dds_peak = cuda_peak_allocated_bytes(device, true);

    // The physical limit: the same TorchScript module, bare, at the same batch.
    torch::jit::Module net = torch::jit::load(a.model, device);
    net.eval();
    const auto x = keyed_normal({B, 3, a.size, a.size}, 9).to(device);
    const auto t = torch::full({B}, 500.0, torch::TensorOptions().device(device));
    auto fwd_bwd = [&](int64_t n) {
      for (int64_t k = 0; k < n; ++k) {
        auto xi = x.detach().requires_grad_(true);
        auto out = net.forward({xi, t}).toTensor();
        auto g = torch::autograd::grad({out.sum()}, {xi})[0];
      }
    };
    auto fwd = [&](int64_t n) {
      torch::NoGradGuard no_grad;
      for (int64_t k = 0; k < n; ++k) net.forward({x, t}).toTensor();
    };
    fwd_bwd(2);  // warm-up, as the solvers'
    fwd(2);
    const double bare_fb_s = median_seconds(device, a.reps, false, [&] { fwd_bwd(a.steps); }) / static_cast<double>(a.steps);
    const double bare_f_s = median_seconds(device, a.reps, false, [&] { fwd(a.steps); }) / static_cast<double>(a.steps);

    // The Python loop at batch 1 and at the batch.
    const std::string dev_name = device.is_cuda() ? "cuda" : "cpu";
    const auto loop = run_python_loop(a, dev_name, B == 1 ? std::string("1") : str_cat("1,", B));
    auto loop_ms = [&](const std::string& solver, int64_t b) {
      const auto it = loop.find({solver, b});
      return it == loop.end() ? NAN : it->second.step_ms;
    };

    std::printf("\n| solver | ipbench ms/step | samples/s | bare network ms/step | speed vs bare | python loop ms/step | speed vs python |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    auto row = [&](const char* name, double ours, double bare, const char* bare_name) {
      const double py = loop_ms(name, B);
      std::printf("| %s | %.3f | %.2f | %.3f (%s) | %.3f | %.3f | %.3f |\n", name, 1e3 * ours,
                  static_cast<double>(B) / ours, 1e3 * bare, bare_name, bare / ours, py, py / (1e3 * ours));
    };
    row("dps", dps_s, bare_fb_s, "fwd+bwd");
    row("dds", dds_s, bare_f_s, "fwd");
    if (device.is_cuda()) {
      const double mib = 1024.0 * 1024.0;
      std::printf("\npeak CUDA memory: dps %.1f MiB (%.1f MiB per sample), dds %.1f MiB (%.1f MiB per sample)\n",
                  dps_peak / mib, dps_peak / mib / B, dds_peak / mib, dds_peak / mib / B);
      const auto it = loop.find({"dps", B});
      if (it != loop.end())
        std::printf("python loop peak CUDA memory: dps %.1f MiB (%.1f MiB per sample)\n", it->second.peak_mib,
                    it->second.peak_mib / B);
    }
    const double py1 = loop_ms("dps", 1);
    const double per_hour_ours = 3600.0 * static_cast<double>(B) / (static_cast<double>(a.images_steps) * dps_s);
    const double per_hour_py1 = 3600.0 / (static_cast<double>(a.images_steps) * py1 / 1e3);
    std::printf("\nimages/hour of %lld-step DPS at %lld px: ipbench batch %lld %.1f, python loop batch 1 %.1f "
                "(%.2fx)\n",
                static_cast<long long>(a.images_steps), static_cast<long long>(a.size), static_cast<long long>(B),
                per_hour_ours, per_hour_py1, per_hour_ours / per_hour_py1);

    // Noise designs: a draw for (about) the batch, on the device and drawn on the CPU + copied.
    std::printf("\n| design | K | draws of [%lld,3,%lld,%lld] | ms on %s | ms on CPU + copy | fraction of a dps step "
                "(on device) | (CPU + copy) |\n|---|---|---|---|---|---|---|\n",
                static_cast<long long>(B), static_cast<long long>(a.size), static_cast<long long>(a.size),
                device.str().c_str());
    const std::vector<std::pair<std::string, std::string>> designs{
        {"iid", ""}, {"antithetic", ""}, {"repulsive", "K = 4\n"},
        {"coupling", "matrix = 0.6 0.8 | 0.6 -0.8 | 1 0 | 0 1\n"}, {"rqmc", "m = 4\n"}};
    for (const auto& [name, options] : designs) {
      const auto design = make_design(name, options);
      const int64_t K = design->group_size();
      const int64_t G = std::max<int64_t>(1, (B + K - 1) / K);
      const int reps = std::max(3, a.reps);
      const double dev_s = median_seconds(device, reps, true, [&] {
        NoiseStream s(design, 7, 0, G, device);
        s.gaussian(shape);
      });
      const double cpu_s = median_seconds(device, reps, true, [&] {
        NoiseStream s(design, 7, 0, G, torch::kCPU);
        s.gaussian(shape).to(device);
      });
      // Per sample: the stream serves G * K >= B samples.
      const double scale = static_cast<double>(B) / static_cast<double>(G * K);
      std::printf("| %s | %lld | %lld | %.3f | %.3f | %.4f | %.4f |\n", name.c_str(), static_cast<long long>(K),
                  static_cast<long long>(G * K), 1e3 * dev_s, 1e3 * cpu_s, scale * dev_s / dps_s,
                  scale * cpu_s / dps_s);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_solvers: %s\n", e.what());
    return 2;
  }
}
