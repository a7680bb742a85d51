// [benchmark] precision (harness/autocast_prior.h): the prior's forward in solvers under autocast.
// The wrapper on a tiny convolutional prior (dtype back, values close, gradients through it), the
// config rules (fp16 off CUDA, float64, unknown names), and runs of DPS on the shipped UNet: fp32 records
// are those of a config without the key, bf16 runs end to end and stays within a bounded distance of fp32.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "harness/autocast_prior.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "synthetic_run.h"
#include "temp_dir.h"

using namespace ipbench;
namespace fs = std::filesystem;
using testing::TempDir;

namespace {

// x0_hat = conv(x, w) / (1 + sigma): a convolution, which autocast runs in the reduced dtype.
class ConvPrior final : public Denoiser {
 public:
  ConvPrior() : w_(torch::linspace(-0.5, 0.7, 27).view({1, 3, 3, 3}).repeat({3, 1, 1, 1})) {}
  Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const override {
    seen = torch::conv2d(x, w_, {}, 1, 1).scalar_type();
    return {torch::conv2d(x, w_, {}, 1, 1) / (1 + sigma.view({-1, 1, 1, 1})), {}};
  }
  std::vector<int64_t> image_shape() const override { return {3, 8, 8}; }
  std::string describe() const override { return "conv"; }
  mutable at::ScalarType seen = at::kFloat;  // dtype of the convolution inside predict()

 private:
  torch::Tensor w_;
};

// The DPS run on the shipped UNet: 2 items x 2 samples, 20 steps, inpainting, iid (about 2 s a run).
std::string unet_config() {
  const std::string src = IPBENCH_SOURCE_DIR;
  return "[benchmark]\nname = p\nitems = 2\nsamples_per_item = 2\noperators = inpaint\nsolvers = dps\n"
         "designs = iid\nmetrics = l1, psnr\ndevice = cpu\nthreads = 1\n[dataset]\nsource = fashion-mnist:test\n"
         "pad_to = 32\n[prior]\ntype = unet\npath = " + src + "/models/fmnist32-ddpm\n[operator.inpaint]\n"
         "mode = random\n[solver.dps]\nsteps = 20\nzeta = 1.0\n";
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("autocast prior: bf16 forward, float32 outputs close to fp32, gradients through it", "[autocast_prior]") {
  const ConvPrior conv;
  const AutocastDenoiser bf16(conv, Precision::kBFloat16);
  const auto x = torch::linspace(-1, 1, 2 * 3 * 8 * 8).view({2, 3, 8, 8});
  const auto sigma = torch::tensor({0.5f, 2.0f});
  const auto ref = conv.predict(x, sigma).x0;
  CHECK(conv.seen == at::kFloat);
  const auto xg = x.clone().requires_grad_(true);
  const auto out = bf16.predict(xg, sigma).x0;
  CHECK(conv.seen == at::kBFloat16);            // the convolution ran in bf16
  CHECK(out.scalar_type() == at::kFloat);       // cast back to the run's dtype
  CHECK_FALSE(autocast_enabled(torch::kCPU));   // the scope closed
  CHECK_FALSE(torch::equal(out.detach(), ref));  // reduced precision is visible ...
  const double err = (out.detach() - ref).abs().max().item<double>(), scale = ref.abs().max().item<double>();
  CHECK(err < 2e-2 * scale);                     // ... and small (bf16: 8 mantissa bits, ~4e-3 relative)
  // The VJP through the autocast region (what DPS takes) matches fp32's within bf16 accuracy.
  const auto g = torch::autograd::grad({out.square().sum()}, {xg})[0];
  const auto xr = x.clone().requires_grad_(true);
  const auto gr = torch::autograd::grad({conv.predict(xr, sigma).x0.square().sum()}, {xr})[0];
  CHECK(g.scalar_type() == at::kFloat);
  CHECK((g - gr).abs().max().item<double>() < 3e-2 * gr.abs().max().item<double>());
}

TEST_CASE("autocast prior: precision rules are config errors naming the key", "[autocast_prior][errors]") {
  TempDir tmp;
  const auto data = testing::write_synthetic_dataset(tmp.path);
  const std::string ini = "[benchmark]\nitems = 2\nsamples_per_item = 2\nsolvers = dps\ndesigns = iid\ndevice = cpu\n"
                          "[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = gaussian\n";
  auto refused = [&](const std::vector<std::string>& sets, const std::string& needle) {
    Config cfg = Config::from_string(ini, "t.ini");
    for (const auto& s : sets) cfg.set(s);
    INFO(needle);
    CHECK_THROWS_WITH(parse_spec(std::move(cfg)), Catch::Contains(needle));
  };
  refused({"benchmark.precision=fp16"},
          "config [benchmark] precision = fp16 on device cpu: float16 needs a CUDA device");
  refused({"benchmark.precision=bf8"}, "config [benchmark] precision = bf8: not a precision (use fp32, bf16 or fp16)");
  refused({"benchmark.precision=bf16", "benchmark.dtype=float64"},
          "Violated: a reduced precision needs [benchmark] dtype = float32");
  Config ok = Config::from_string(ini, "t.ini");
  ok.set("benchmark.precision=bf16");
  CHECK_NOTHROW(parse_spec(std::move(ok)));
}

TEST_CASE("autocast prior: DPS on the UNet, fp32 = no key, bf16 within a bounded distance", "[autocast_prior]") {
  TempDir tmp;
  const auto ini = unet_config();
  const auto none = testing::run_config_text(ini, tmp.path / "none").records;
  const auto fp32 = testing::run_config_text(ini, tmp.path / "fp32", false, "benchmark.precision=fp32").records;
  const auto bf16 = testing::run_config_text(ini, tmp.path / "bf16", false, "benchmark.precision=bf16").records;
  // No key: the resolved config does not list it (run id and CI baselines unchanged).
  CHECK(read_text(tmp.path / "none" / "config.resolved.ini").find("precision") == std::string::npos);
  CHECK(read_text(tmp.path / "bf16" / "config.resolved.ini").find("precision = bf16") != std::string::npos);
  REQUIRE(none.size() == 4);
  REQUIRE(fp32.size() == 4);
  REQUIRE(bf16.size() == 4);
  double worst = 0;
  bool differs = false;
  for (size_t i = 0; i < 4; ++i) {
    CHECK(fp32[i].metrics == none[i].metrics);  // bitwise: fp32 does not wrap the prior
    CHECK(fp32[i].status == none[i].status);
    CHECK(bf16[i].status == "ok");
    CHECK(bf16[i].nfe == none[i].nfe);
    const double a = bf16[i].metrics.at("psnr"), b = none[i].metrics.at("psnr");
    differs |= a != b;
    worst = std::max(worst, std::abs(a - b));
  }
  INFO("largest |psnr(bf16) - psnr(fp32)| = " << worst << " dB");
  CHECK(differs);      // bf16 was used
  CHECK(worst < 0.5);  // and stays close (measured 0.11 dB): same noise, same measurements
}

TEST_CASE("autocast prior: a CM solver's consistency function runs under the same autocast", "[autocast_prior]") {
  // The wrapper itself: a convolutional f in bf16 inside, float32 out, differentiable.
  class ConvConsistency final : public ConsistencyFunction {
   public:
    torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& sigma) const override {
      return prior.predict(x, sigma).x0;
    }
    std::vector<int64_t> image_shape() const override { return {3, 8, 8}; }
    std::string describe() const override { return "conv f"; }
    ConvPrior prior;
  } f;
  const AutocastConsistency bf16(f, Precision::kBFloat16);
  const auto x = torch::linspace(-1, 1, 2 * 3 * 8 * 8).view({2, 3, 8, 8}).requires_grad_(true);
  const auto sigma = torch::tensor({0.5f, 2.0f});
  const auto out = bf16(x, sigma);
  CHECK(f.prior.seen == at::kBFloat16);
  CHECK(out.scalar_type() == at::kFloat);
  const auto ref = f(x, sigma).detach();
  CHECK_FALSE(torch::equal(out.detach(), ref));
  CHECK((out.detach() - ref).abs().max().item<double>() < 2e-2 * ref.abs().max().item<double>());
  CHECK(torch::autograd::grad({out.sum()}, {x})[0].scalar_type() == at::kFloat);
  // Through the runner: cm_sample uses only the consistency function (the shipped distilled model), so
  // bf16 records differ from fp32 only if the function ran under autocast.
  TempDir tmp;
  std::string ini = unet_config();
  ini.replace(ini.find("solvers = dps"), 13, "solvers = cm_sample");
  ini += "[solver.cm_sample]\nconsistency = " + std::string(IPBENCH_SOURCE_DIR) + "/models/fmnist32-cm\n";
  const auto fp32 = testing::run_config_text(ini, tmp.path / "fp32").records;
  const auto bf = testing::run_config_text(ini, tmp.path / "bf16", false, "benchmark.precision=bf16").records;
  REQUIRE(fp32.size() == 4);
  REQUIRE(bf.size() == 4);
  bool differs = false;
  for (size_t i = 0; i < 4; ++i) {
    CHECK(bf[i].status == "ok");
    differs |= bf[i].metrics.at("psnr") != fp32[i].metrics.at("psnr");
    INFO(i << ": psnr bf16 " << bf[i].metrics.at("psnr") << ", fp32 " << fp32[i].metrics.at("psnr"));
    // Unconditional samples, 7-12 dB from the truth: bf16 moves them by up to 0.7 dB (measured).
    CHECK(std::abs(bf[i].metrics.at("psnr") - fp32[i].metrics.at("psnr")) < 1.5);
  }
  CHECK(differs);
}
