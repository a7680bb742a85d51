// Tests for operators/: driven by the registry, so that a newly registered operator is covered by
// the adjointness, shape, gradient, measurement-noise and option tests without editing this file.
// Operators listed in kVariants are also run with each listed option variant; any other operator is
// run with its defaults.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "operators/colorize.h"
#include "operators/compressed_sensing.h"
#include "operators/ct.h"
#include "operators/gaussian_blur.h"
#include "operators/inpaint.h"
#include "operators/motion_blur.h"
#include "operators/mri.h"
#include "operators/nonlinear.h"
#include "operators/operator.h"
#include "operators/superres.h"
#include "operators/torchscript_operator.h"

using namespace ipbench;

namespace {

// Option variants (INI lines) per built-in operator; unlisted operators run with their defaults.
const std::string kClassifier = std::string(IPBENCH_TEST_DATA) + "/tiny_classifier.pt";

// Keys an operator needs to build at all (prepended to every variant and to the defaults).
const std::map<std::string, std::string> kRequired = {{"torchscript", "path = " + kClassifier}};

const std::map<std::string, std::vector<std::string>> kVariants = {
    {"inpaint", {"mode = random", "mode = box", "mode = box\nbox_size = 5", "mode = half"}},
    {"motion_blur",
     {"padding = reflect", "padding = circular", "padding = zeros\nkernel_size = 7\nintensity = 0.8",
      "kernel_size = 17\npadding = zeros", "kernel_size = 17\npadding = reflect"}},
    {"colorize", {"weights = luma", "weights = mean"}},
    {"cs", {"transform = dct", "transform = fft\nratio = 0.5"}},
    {"mri",
     {"mask = uniform1d", "mask = gaussian1d\nacceleration = 8", "mask = gaussian2d", "mask = radial",
      "mask = uniform1d\ncoils = 4", "mask = radial\ncoils = 3"}},
    {"ct", {"angles = 30", "angles = 8", "angles = 120\nangle_max = 120"}},
    {"torchscript", {"loss = mse", "loss = cross_entropy", "loss = cross_entropy\nlabel = 3"}},
    {"gaussian_blur", {"padding = reflect", "padding = circular", "padding = zeros", "sigma = 2.5\nkernel_size = 11"}},
    {"superres",
     {"method = avgpool\nfactor = 2", "method = avgpool\nfactor = 4", "method = bicubic\nfactor = 2",
      "method = bicubic\nfactor = 4"}},
};

struct Variant {
  std::string name;
  std::string ini;  ///< extra INI lines for the operator's section
  std::string label() const { return name + (ini.empty() ? "" : " [" + ini + "]"); }
};

std::vector<Variant> all_variants() {
  register_builtin_operators();
  std::vector<Variant> out;
  for (const auto& name : operator_registry().names()) {
    auto it = kVariants.find(name);
    if (it == kVariants.end()) {
      out.push_back({name, ""});
      continue;
    }
    for (const auto& ini : it->second) out.push_back({name, ini});
  }
  return out;
}

OperatorBuilder parse(const std::string& name, const std::string& ini) {
  register_builtin_operators();
  auto req = kRequired.find(name);
  const bool given = req != kRequired.end() && ini.find(req->second.substr(0, req->second.find('='))) != std::string::npos;
  const std::string prefix = req == kRequired.end() || given ? "" : req->second + "\n";
  const auto cfg = Config::from_string("[operator." + name + "]\n" + prefix + ini + "\n", "test.ini");
  return operator_registry().get(name).parse(cfg.section("operator." + name));
}

std::unique_ptr<Operator> build(const std::string& name, const std::string& ini, std::vector<int64_t> chw,
                                uint64_t key = 7, torch::ScalarType dtype = torch::kDouble) {
  OperatorContext ctx;
  ctx.image_shape = std::move(chw);
  ctx.key = key;
  ctx.dtype = dtype;
  return parse(name, ini)(ctx);
}

std::unique_ptr<Operator> build(const Variant& v, std::vector<int64_t> chw, uint64_t key = 7,
                                torch::ScalarType dtype = torch::kDouble) {
  return build(v.name, v.ini, std::move(chw), key, dtype);
}

std::vector<int64_t> batch_shape(int64_t b, const std::vector<int64_t>& rest) {
  std::vector<int64_t> s{b};
  s.insert(s.end(), rest.begin(), rest.end());
  return s;
}

double dot64(const torch::Tensor& a, const torch::Tensor& b) { return (a * b).sum().item<double>(); }
double norm64(const torch::Tensor& a) { return a.norm().item<double>(); }
double max_abs(const torch::Tensor& a) { return a.abs().max().item<double>(); }

// The image shapes every registry-driven test runs on: [B, C, H, W].
const std::vector<std::vector<int64_t>> kShapes = {{2, 1, 32, 32}, {2, 3, 24, 40}};

std::vector<int64_t> chw(const std::vector<int64_t>& bchw) { return {bchw[1], bchw[2], bchw[3]}; }

// A nonlinear operator for the default-adjoint contract: y = x^2.
class SquareOperator : public Operator {
 public:
  explicit SquareOperator(std::vector<int64_t> shape) : Operator(MeasurementOptions{}, std::move(shape)) {}
  std::string name() const override { return "square"; }
  bool linear() const override { return false; }
  torch::Tensor forward(const torch::Tensor& x) const override { return x * x; }
  std::vector<int64_t> measurement_shape() const override { return image_shape(); }
  std::string describe() const override { return "square"; }
};

}  // namespace

TEST_CASE("operators: every registered operator documents its options and builds with its defaults", "[operators][registry]") {
  register_builtin_operators();
  CHECK_NOTHROW(register_builtin_operators());  // idempotent
  const auto names = operator_registry().names();
  for (const char* builtin : {"gaussian_blur", "inpaint", "superres", "motion_blur", "colorize", "cs", "mri", "ct",
                              "phase_retrieval", "saturation", "torchscript"})
    CHECK(operator_registry().contains(builtin));
  for (const auto& name : names) {
    INFO(name);
    const auto& entry = operator_registry().get(name);
    CHECK(entry.info.name == name);
    CHECK_FALSE(entry.info.description.empty());
    REQUIRE(entry.info.options.size() >= 2);
    CHECK(entry.info.options.front().name == "sigma_y");
    for (const auto& doc : entry.info.options) CHECK_FALSE(doc.help.empty());
    auto op = build(name, "", {3, 32, 32}, 1, torch::kFloat);
    CHECK(op->name() == name);
    CHECK(op->linear() == entry.linear);
    CHECK(op->noise().sigma_y == 0.05);
    CHECK(op->image_shape() == std::vector<int64_t>{3, 32, 32});
    CHECK_FALSE(op->describe().empty());
  }
  CHECK_THROWS_AS(operator_registry().add("inpaint", inpaint_entry()), Error);
  CHECK_THROWS_WITH(operator_registry().get("deblur"), Catch::Contains("gaussian_blur"));
}

TEST_CASE("operators: linear operators are adjoint to their adjoint in float64", "[operators][adjoint]") {
  for (const auto& v : all_variants()) {
    for (const auto& shape : kShapes) {
      auto op = build(v, chw(shape), 11);
      INFO(v.label() << " on " << c10::IntArrayRef(shape) << ": " << op->describe());
      if (!op->linear()) continue;
      auto x = keyed_normal(shape, 101, torch::kDouble);
      auto y = keyed_normal(batch_shape(shape[0], op->measurement_shape()), 202, torch::kDouble);
      auto ax = op->forward(x);
      auto aty = op->adjoint(y);
      REQUIRE(aty.sizes() == x.sizes());
      CHECK(aty.scalar_type() == torch::kDouble);
      const double gap = std::abs(dot64(ax, y) - dot64(x, aty)) / (norm64(ax) * norm64(y));
      CHECK(gap < 1e-10);
    }
  }
}

TEST_CASE("operators: closed-form adjoints equal the autograd VJP adjoint", "[operators][adjoint]") {
  for (const auto& v : all_variants()) {
    for (const auto& shape : kShapes) {
      auto op = build(v, chw(shape), 12);
      if (!op->linear()) continue;
      INFO(v.label() << " on " << c10::IntArrayRef(shape));
      auto y = keyed_normal(batch_shape(shape[0], op->measurement_shape()), 303, torch::kDouble);
      auto closed = op->adjoint(y);
      auto vjp = op->vjp_adjoint(y);
      CHECK(max_abs(closed - vjp) <= 1e-12 * (1 + max_abs(vjp)));
    }
  }
}

TEST_CASE("operators: the VJP adjoint works without grad mode and is differentiable in y", "[operators][adjoint]") {
  auto op = build("gaussian_blur", "", {1, 16, 16});
  auto y = keyed_normal({1, 1, 16, 16}, 5, torch::kDouble);
  torch::Tensor aty;
  {
    torch::NoGradGuard no_grad;
    aty = op->adjoint(y);
  }
  CHECK_FALSE(aty.requires_grad());
  auto yg = y.clone().requires_grad_(true);
  auto w = keyed_normal({1, 1, 16, 16}, 6, torch::kDouble);
  (op->adjoint(yg) * w).sum().backward();  // d<A^T y, w>/dy = A w
  CHECK(max_abs(yg.grad() - op->forward(w)) < 1e-12);
}

TEST_CASE("operators: forward keeps batch, dtype and the declared measurement shape", "[operators][shape]") {
  for (const auto& v : all_variants()) {
    for (auto dtype : {torch::kFloat, torch::kDouble}) {
      for (const auto& shape : {std::vector<int64_t>{1, 3, 32, 32}, std::vector<int64_t>{3, 1, 24, 40}}) {
        auto op = build(v, chw(shape), 13, dtype);
        INFO(v.label() << " on " << c10::IntArrayRef(shape) << " " << dtype);
        auto x = keyed_normal(shape, 1, dtype);
        auto y = op->forward(x);
        CHECK(y.sizes().vec() == batch_shape(shape[0], op->measurement_shape()));
        CHECK(y.scalar_type() == dtype);
        CHECK(op->measurement_size() == y[0].numel());
        CHECK(torch::isfinite(y).all().item<bool>());
      }
    }
  }
}

TEST_CASE("operators: forward is differentiable: grad of 0.5 |Ax - y|^2 is A^T (Ax - y)", "[operators][grad]") {
  for (const auto& v : all_variants()) {
    const std::vector<int64_t> shape{2, 3, 24, 40};
    auto op = build(v, chw(shape), 14);
    INFO(v.label());
    auto x = keyed_normal(shape, 1, torch::kDouble).requires_grad_(true);
    auto y = keyed_normal(batch_shape(2, op->measurement_shape()), 2, torch::kDouble);
    auto r = op->forward(x) - y;
    (0.5 * r.square().sum()).backward();
    REQUIRE(x.grad().defined());
    CHECK(torch::isfinite(x.grad()).all().item<bool>());
    if (op->linear()) CHECK(max_abs(x.grad() - op->adjoint(r.detach())) < 1e-10);
  }
}

TEST_CASE("operators: measure adds keyed Gaussian noise of std sigma_y", "[operators][measure]") {
  for (const auto& v : all_variants()) {
    INFO(v.label());
    if (v.ini.find("cross_entropy") != std::string::npos) continue;  // labels: no noise (own test)
    auto op = build(v, {3, 128, 128}, 15, torch::kFloat);
    auto zero = torch::zeros({1, 3, 128, 128});
    auto y1 = op->measure(zero, 42);
    CHECK(torch::equal(y1, op->measure(zero, 42)));
    CHECK_FALSE(torch::equal(y1, op->measure(zero, 43)));
    auto n1 = y1 - op->forward(zero);
    if (n1.numel() >= 10000) {
      CHECK(n1.std().item<double>() == Approx(0.05).epsilon(0.05));
      CHECK(std::abs(n1.mean().item<double>()) < 0.005);
    }

    auto noiseless = build(v.name, v.ini + "\nsigma_y = 0", {3, 32, 32}, 15, torch::kDouble);
    auto x = keyed_normal({2, 3, 32, 32}, 3, torch::kDouble);
    CHECK(torch::equal(noiseless->measure(x, 42), noiseless->forward(x)));
    auto noisy = build(v.name, v.ini + "\nsigma_y = 0.1", {3, 32, 32}, 15, torch::kDouble);
    auto n = (noisy->measure(x, 42) - noisy->forward(x)) / 0.1;
    CHECK(max_abs(n - keyed_normal(n.sizes(), 42, torch::kDouble)) < 1e-12);
  }
}

TEST_CASE("operators: inpaint random masks: fraction in range, keyed, shared across channels", "[operators][inpaint]") {
  const std::vector<int64_t> shape{3, 64, 48};
  auto ones = torch::ones({1, 3, 64, 48}, torch::kDouble);
  for (uint64_t key = 1; key <= 20; ++key) {
    auto op = build("inpaint", "mode = random", shape, key);
    auto m = op->forward(ones);
    CHECK(torch::equal(m, m * m));  // binary
    CHECK(torch::equal(m[0][0], m[0][1]));
    CHECK(torch::equal(m[0][0], m[0][2]));
    const double missing = 1.0 - m[0][0].mean().item<double>();
    CHECK(missing >= 0.3 - 1.0 / (64 * 48));  // floor(H W p) pixels
    CHECK(missing <= 0.7);
    CHECK(static_cast<int64_t>(std::lround(missing * 64 * 48)) ==
          dynamic_cast<const InpaintOperator&>(*op).missing());
  }
  auto a = build("inpaint", "", shape, 5)->forward(ones);
  CHECK(torch::equal(a, build("inpaint", "", shape, 5)->forward(ones)));
  CHECK_FALSE(torch::equal(a, build("inpaint", "", shape, 6)->forward(ones)));
  // A degenerate range fixes the fraction: floor(H * W * p) pixels.
  auto fixed = build("inpaint", "mask_prob_min = 0.5\nmask_prob_max = 0.5", shape, 9)->forward(ones);
  CHECK((fixed[0][0] == 0).sum().item<int64_t>() == 64 * 48 / 2);
}

TEST_CASE("operators: inpaint box masks: one square hole of the configured size inside the margins", "[operators][inpaint]") {
  auto check_box = [](const std::vector<int64_t>& shape, const std::string& ini, int64_t side, uint64_t key) {
    INFO(ini << " key " << key);
    auto op = build("inpaint", ini, shape, key);
    auto m = op->forward(torch::ones({1, shape[0], shape[1], shape[2]}, torch::kDouble))[0][0];
    auto zeros = (m == 0).nonzero();  // [n, 2] (row, col)
    REQUIRE(zeros.size(0) == side * side);
    const int64_t top = zeros.select(1, 0).min().item<int64_t>(), left = zeros.select(1, 1).min().item<int64_t>();
    CHECK(zeros.select(1, 0).max().item<int64_t>() == top + side - 1);
    CHECK(zeros.select(1, 1).max().item<int64_t>() == left + side - 1);  // n = side^2 in a side^2 box: filled
    CHECK(top >= shape[1] / 16);
    CHECK(top + side <= shape[1] - shape[1] / 16);
    CHECK(left >= shape[2] / 16);
    CHECK(left + side <= shape[2] - shape[2] / 16);
    return std::make_pair(top, left);
  };
  check_box({1, 64, 64}, "mode = box", 32, 1);  // auto = H / 2
  check_box({3, 24, 40}, "mode = box", 12, 2);  // auto = min(H, W) / 2
  check_box({1, 64, 64}, "mode = box\nbox_size = 20", 20, 3);
  CHECK(check_box({1, 64, 64}, "mode = box\nbox_size = 20", 20, 3) ==
        check_box({1, 64, 64}, "mode = box\nbox_size = 20", 20, 3));
  bool moved = false;
  const auto first = check_box({1, 64, 64}, "mode = box\nbox_size = 20", 20, 100);
  for (uint64_t key = 101; key < 110; ++key) moved |= check_box({1, 64, 64}, "mode = box\nbox_size = 20", 20, key) != first;
  CHECK(moved);
}

TEST_CASE("operators: gaussian_blur kernel: scipy's truncated normalized Gaussian, DPS defaults scaled", "[operators][blur]") {
  auto blur = [](const std::string& ini, std::vector<int64_t> shape) {
    auto op = build("gaussian_blur", ini, std::move(shape));
    return std::unique_ptr<GaussianBlurOperator>(dynamic_cast<GaussianBlurOperator*>(op.release()));
  };
  auto dps = blur("sigma = 3.0\nkernel_size = 61", {3, 256, 256});
  auto k = dps->kernel();
  REQUIRE(k.sizes() == torch::IntArrayRef({61, 61}));
  CHECK(k.sum().item<double>() == Approx(1.0).epsilon(1e-14));
  CHECK(torch::equal(k, k.t()));
  CHECK(torch::equal(k, k.flip({0})));
  CHECK(k.argmax().item<int64_t>() == 30 * 61 + 30);
  // scipy truncate = 4: radius int(4 * 3 + 0.5) = 12, zero beyond.
  CHECK(k[30][30 + 12].item<double>() > 0);
  CHECK(k[30][30 + 13].item<double>() == 0);
  CHECK(k[30 - 13][30].item<double>() == 0);
  // Centre tap of the 1-D sigma = 1 kernel: 1 / sum_{|t| <= 4} exp(-t^2 / 2).
  double z = 0;
  for (int t = -4; t <= 4; ++t) z += std::exp(-0.5 * t * t);
  CHECK(gaussian_taps(1.0, 100)[4].item<double>() == Approx(1.0 / z).epsilon(1e-14));
  CHECK(gaussian_taps(1.0, 100).size(0) == 9);
  // Auto defaults: sigma = max(1, 3 min(H, W) / 256), kernel = 2 int(4 sigma + 0.5) + 1.
  auto at256 = blur("", {3, 256, 256});
  CHECK(at256->sigma() == 3.0);
  CHECK(at256->kernel_size() == 25);
  auto at32 = blur("", {3, 32, 32});
  CHECK(at32->sigma() == 1.0);
  CHECK(at32->kernel_size() == 9);
  // DPS's 61-wide window and the auto 25-wide one give the same operator (taps beyond 12 are zero).
  auto x = keyed_normal({1, 3, 256, 256}, 4, torch::kDouble);
  CHECK(max_abs(dps->forward(x) - at256->forward(x)) < 1e-12);
  // A window smaller than the Gaussian's support is cropped and renormalized.
  auto cropped = blur("sigma = 2.5\nkernel_size = 5", {1, 32, 32});
  CHECK(cropped->kernel().sum().item<double>() == Approx(1.0).epsilon(1e-14));
}

TEST_CASE("operators: gaussian_blur keeps a constant image constant (reflect, circular)", "[operators][blur]") {
  for (const std::string padding : {"reflect", "circular"}) {
    auto op = build("gaussian_blur", "padding = " + padding + "\nsigma = 2\nkernel_size = 15", {3, 24, 40});
    auto c = torch::full({2, 3, 24, 40}, 0.7, torch::kDouble);
    CHECK(max_abs(op->forward(c) - c) < 1e-12);
  }
  // An interior delta spreads into the kernel itself (so it sums to one through forward too).
  auto op = build("gaussian_blur", "padding = zeros\nsigma = 1.5\nkernel_size = 11", {1, 32, 32});
  auto delta = torch::zeros({1, 1, 32, 32}, torch::kDouble);
  delta[0][0][16][16] = 1.0;
  auto spread = op->forward(delta)[0][0].narrow(0, 11, 11).narrow(1, 11, 11);
  CHECK(max_abs(spread - dynamic_cast<GaussianBlurOperator&>(*op).kernel()) < 1e-15);
}

TEST_CASE("operators: superres: bicubic keeps constants and ramps, avgpool takes block means", "[operators][superres]") {
  for (int64_t f : {2, 4}) {
    INFO("factor " << f);
    const int64_t H = 64, W = 48, h = H / f;
    auto bicubic = build("superres", "method = bicubic\nfactor = " + std::to_string(f), {1, H, W});
    auto c = torch::full({1, 1, H, W}, -0.3, torch::kDouble);
    CHECK(max_abs(bicubic->forward(c) + 0.3) < 1e-14);
    // Ramp along H: the output is the ramp at the block centres j f + (f - 1) / 2, away from the border.
    auto ramp = torch::arange(H, torch::kDouble).view({1, 1, H, 1}).expand({1, 1, H, W});
    auto y = bicubic->forward(ramp)[0][0].select(1, W / f / 2);
    for (int64_t j = 3; j < h - 3; ++j) CHECK(y[j].item<double>() == Approx(j * f + (f - 1) / 2.0).margin(1e-12));
    // Interior rows agree with PyTorch's antialiased bicubic (PIL convention; only borders differ).
    auto x = keyed_normal({1, 1, H, W}, 8, torch::kDouble);
    auto ref = at::_upsample_bicubic2d_aa(x, {h, W / f}, /*align_corners=*/false, c10::nullopt, c10::nullopt);
    auto mine = bicubic->forward(x);
    const int64_t b = 3;
    CHECK(max_abs(mine.narrow(2, b, h - 2 * b).narrow(3, b, W / f - 2 * b) -
                  ref.narrow(2, b, h - 2 * b).narrow(3, b, W / f - 2 * b)) < 1e-10);

    auto avg = build("superres", "method = avgpool\nfactor = " + std::to_string(f), {1, H, W});
    auto block = x.narrow(2, f, f).narrow(3, 2 * f, f).mean().item<double>();
    CHECK(avg->forward(x)[0][0][1][2].item<double>() == Approx(block).epsilon(1e-14));
  }
  CHECK(bicubic_resize_matrix(32, 4).sum(1).sub(1).abs().max().item<double>() < 1e-14);
}

TEST_CASE("operators: bad options and shapes throw Errors naming the option", "[operators][options]") {
  struct Bad {
    std::string name, ini;
    std::vector<int64_t> shape;
    std::string needle;
  };
  const std::vector<Bad> cases = {
      {"gaussian_blur", "kernel_size = 8", {1, 32, 32}, "kernel_size"},
      {"gaussian_blur", "kernel_size = 41", {1, 32, 32}, "kernel_size"},
      {"gaussian_blur", "sigma = 3", {1, 16, 16}, "kernel_size"},  // auto kernel 25 > 16
      {"gaussian_blur", "sigma = -1", {1, 32, 32}, "sigma"},
      {"gaussian_blur", "padding = replicate", {1, 32, 32}, "padding"},
      {"superres", "factor = 3", {1, 32, 32}, "factor"},
      {"superres", "factor = 4", {1, 30, 30}, "factor"},
      {"superres", "factor = 4", {1, 4, 32}, "factor"},  // H / factor = 1
      {"superres", "method = bilinear", {1, 32, 32}, "method"},
      {"inpaint", "mode = box\nbox_size = 40", {1, 32, 32}, "box_size"},
      {"inpaint", "mode = box\nbox_size = 32", {1, 64, 32}, "box_size"},
      {"inpaint", "mask_prob_max = 1", {1, 32, 32}, "mask_prob_max"},
      {"inpaint", "mask_prob_min = 0.8", {1, 32, 32}, "mask_prob_min"},
      {"inpaint", "mask_prob_min = -0.1", {1, 32, 32}, "mask_prob_min"},
      {"inpaint", "mode = stripes", {1, 32, 32}, "mode"},
      {"inpaint", "sigma_y = -0.05", {1, 32, 32}, "sigma_y"},
      {"superres", "sigma_y = nan", {1, 32, 32}, "sigma_y"},
      {"superres", "noise = laplace", {1, 32, 32}, "noise"},
      {"superres", "noise = poisson\npoisson_rate = 0", {1, 32, 32}, "poisson_rate"},
      {"motion_blur", "kernel_size = 8", {1, 32, 32}, "kernel_size"},
      {"motion_blur", "kernel_size = 33", {1, 32, 32}, "kernel_size"},
      {"motion_blur", "kernel_size = 0", {1, 4, 32}, "kernel_size"},  // auto minimum 5 > 4
      {"motion_blur", "intensity = 1", {1, 32, 32}, "intensity"},
      {"motion_blur", "padding = replicate", {1, 32, 32}, "padding"},
      {"colorize", "weights = luma", {2, 32, 32}, "weights"},
      {"colorize", "weights = max", {3, 32, 32}, "weights"},
      {"cs", "ratio = 0", {1, 32, 32}, "ratio"},
      {"cs", "ratio = 1.5", {1, 32, 32}, "ratio"},
      {"cs", "transform = fft\nratio = 1", {1, 32, 32}, "ratio"},  // more bins than 0 < k < n/2
      {"cs", "transform = wavelet", {1, 32, 32}, "transform"},
      {"mri", "acceleration = 0.5", {1, 32, 32}, "acceleration"},
      {"mri", "center_fraction = 0.5", {1, 32, 32}, "center_fraction"},  // 16 central > 8 columns
      {"mri", "mask = gaussian2d\ncenter_fraction = 0.6", {1, 32, 32}, "center_fraction"},
      {"mri", "mask = spiral", {1, 32, 32}, "mask"},
      {"mri", "image = complex", {1, 32, 32}, "image"},
      {"mri", "coils = 0", {1, 32, 32}, "coils"},
      {"ct", "angles = 0", {1, 32, 32}, "angles"},
      {"ct", "angle_max = 0", {1, 32, 32}, "angle_max"},
      {"phase_retrieval", "oversample = -1", {1, 32, 32}, "oversample"},
      {"saturation", "gain = 0", {1, 32, 32}, "gain"},
      {"torchscript", "path = /nonexistent/net.pt", {1, 32, 32}, "path"},
      {"torchscript", "loss = hinge", {1, 32, 32}, "loss"},
      {"torchscript", "loss = cross_entropy\nlabel = 10", {1, 32, 32}, "label"},
  };
  for (const auto& c : cases) {
    INFO(c.name << " [" << c.ini << "] on " << c10::IntArrayRef(c.shape));
    try {
      build(c.name, c.ini, c.shape);
      FAIL("expected an ipbench::Error");
    } catch (const Error& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(msg.find(c.needle) != std::string::npos);
      CHECK(msg.find(c.name) != std::string::npos);
    }
  }
  for (const auto& name : operator_registry().names()) {
    CHECK_THROWS_WITH(build(name, "", {1, 32}), Catch::Contains("image_shape"));
  }
}

TEST_CASE("operators: option structs: defaults are valid", "[operators][options]") {
  CHECK_NOTHROW(MeasurementOptions{}.validate());
  CHECK_NOTHROW(InpaintOptions{}.validate());
  CHECK_NOTHROW(GaussianBlurOptions{}.validate());
  CHECK_NOTHROW(SuperresOptions{}.validate());
  CHECK_NOTHROW(MotionBlurOptions{}.validate());
  CHECK_NOTHROW(ColorizeOptions{}.validate());
  CHECK_NOTHROW(CompressedSensingOptions{}.validate());
  CHECK_NOTHROW(MriOptions{}.validate());
  CHECK_NOTHROW(CtOptions{}.validate());
  CHECK_NOTHROW(PhaseRetrievalOptions{}.validate());
  CHECK_NOTHROW(SaturationOptions{}.validate());
  CHECK_THROWS_AS(TorchScriptOperatorOptions{}.validate(), Error);  // path is required
}

TEST_CASE("operators: nonlinear operators have no adjoint", "[operators][adjoint]") {
  SquareOperator op({1, 4, 4});
  CHECK_THROWS_AS(op.adjoint(torch::ones({1, 1, 4, 4})), Error);
  CHECK_THROWS_WITH(op.vjp_adjoint(torch::ones({1, 1, 4, 4})), Catch::Contains("square"));
}

TEST_CASE("operators: operators built on a CUDA device match the CPU ones", "[operators][cuda]") {
  if (!torch::cuda::is_available()) return;  // skips itself without a GPU
  for (const auto& v : all_variants()) {
    INFO(v.label());
    OperatorContext ctx;
    ctx.image_shape = {3, 32, 32};
    ctx.key = 3;
    ctx.dtype = torch::kDouble;
    auto cpu = parse(v.name, v.ini)(ctx);
    ctx.device = torch::Device(torch::kCUDA);
    auto gpu = parse(v.name, v.ini)(ctx);
    auto x = keyed_normal({2, 3, 32, 32}, 1, torch::kDouble);
    auto y_gpu = gpu->measure(x.to(ctx.device), 9);
    CHECK(y_gpu.device().is_cuda());
    CHECK(max_abs(y_gpu.cpu() - cpu->measure(x, 9)) < 1e-10);
  }
}

TEST_CASE("operators: normal() is A^T A and the power-method norm matches known norms", "[operators][norm]") {
  for (const auto& v : all_variants()) {
    auto op = build(v, {3, 24, 20}, 21);
    if (!op->linear()) {
      CHECK_THROWS_AS(op_norm(*op), Error);
      continue;
    }
    INFO(v.label() << ": " << op->describe());
    auto x = keyed_normal({2, 3, 24, 20}, 4, torch::kDouble);
    auto ata = op->adjoint(op->forward(x));
    CHECK(max_abs(op->normal(x) - ata) <= 1e-12 * (1 + max_abs(ata)));
    const double norm = op_norm(*op, 300, 1e-12);
    CHECK(std::isfinite(norm));
    CHECK(norm > 0);
    if (!std::isnan(op->known_norm())) CHECK(norm == Approx(op->known_norm()).epsilon(1e-6));
  }
  // Orthonormal rows: A A^T = I exactly for cs and single-coil MRI of complex images (a real image's
  // spectrum is Hermitian, so real-image MRI has ||A|| = 1 when it samples DC but A A^T != I).
  for (const auto& [name, ini, c] : {std::make_tuple("cs", "", 3), std::make_tuple("cs", "transform = fft", 3),
                                     std::make_tuple("mri", "image = complex", 2)}) {
    auto op = build(name, ini, {c, 24, 20}, 5);
    auto y = keyed_normal(batch_shape(2, op->measurement_shape()), 6, torch::kDouble);
    CHECK(max_abs(op->forward(op->adjoint(y)) - y) < 1e-12);
  }
  // Fully sampled single-coil MRI (R = 1) and multi-coil with sum |S|^2 = 1 are isometries.
  for (const std::string ini : {"acceleration = 1\ncenter_fraction = 0", "acceleration = 1\ncenter_fraction = 0\ncoils = 4"}) {
    auto op = build("mri", ini, {1, 16, 12});
    auto x = keyed_normal({2, 1, 16, 12}, 7, torch::kDouble);
    CHECK(max_abs(op->normal(x) - x) < 1e-12);
  }
}

TEST_CASE("operators: noise models: poisson counts, none, keyed draws", "[operators][measure]") {
  // keyed_poisson: mean and variance lambda, reproducible.
  for (double lambda : {0.3, 5.0, 200.0, 5000.0}) {
    INFO("lambda " << lambda);
    auto l = torch::full({200000}, lambda, torch::kDouble);
    auto k = keyed_poisson(l, 9);
    CHECK(torch::equal(k, keyed_poisson(l, 9)));
    CHECK(torch::equal(k, k.round()));
    CHECK(k.mean().item<double>() == Approx(lambda).epsilon(0.01).margin(0.005));
    CHECK(k.var().item<double>() == Approx(lambda).epsilon(0.03));
  }
  CHECK(keyed_poisson(torch::zeros({5}), 1).abs().max().item<double>() == 0);
  // measure with noise = poisson: y = 2 Pois(255 rate (Ax + 1) / 2) / (255 rate) - 1.
  auto op = build("inpaint", "mode = half\nnoise = poisson\npoisson_rate = 2", {1, 64, 64});
  auto x = torch::full({1, 1, 64, 64}, 0.2, torch::kDouble);
  auto y = op->measure(x, 3);
  CHECK(torch::equal(y, op->measure(x, 3)));
  auto left = y.narrow(3, 0, 32), right = y.narrow(3, 32, 32);
  const double scale = 255 * 2;
  CHECK(left.mean().item<double>() == Approx(0.2).margin(0.01));
  CHECK(left.var().item<double>() == Approx(4.0 * 0.6 / scale).epsilon(0.1));  // var = 4 lambda / scale^2
  auto counts = (right + 1) * scale / 2;  // the masked half: lambda = scale / 2
  CHECK(max_abs(counts - counts.round()) < 1e-9);  // whole photon counts
  CHECK(right.mean().item<double>() == Approx(0.0).margin(0.01));
  // noise = none and sigma_y = 0 are noiseless.
  auto none = build("gaussian_blur", "noise = none", {1, 32, 32});
  auto z = keyed_normal({1, 1, 32, 32}, 1, torch::kDouble);
  CHECK(torch::equal(none->measure(z, 5), none->forward(z)));
  CHECK(none->noise().noise == "none");
}

TEST_CASE("operators: mri masks keep the requested fraction and centre, keyed per item", "[operators][mri]") {
  const int64_t H = 40, W = 48;
  auto mask_of = [&](const std::string& ini, uint64_t key) {
    auto op = build("mri", ini, {1, H, W}, key);
    return dynamic_cast<const MriOperator&>(*op).mask().clone();
  };
  for (const std::string kind : {"uniform1d", "gaussian1d"}) {
    for (double R : {2.0, 4.0, 8.0}) {
      INFO(kind << " R " << R);
      auto m = mask_of("mask = " + kind + "\nacceleration = " + std::to_string(R) + "\ncenter_fraction = 0.08", 3);
      auto cols = m.sum(0);  // a column is fully sampled or not at all
      CHECK(torch::equal(cols.eq(0).logical_or(cols.eq(H)), torch::ones({W}, torch::kBool)));
      CHECK(cols.gt(0).sum().item<int64_t>() == std::llround(W / R));
      const int64_t nc = std::llround(0.08 * W), start = (W - nc + 1) / 2;
      CHECK(cols.narrow(0, start, nc).eq(H).all().item<bool>());
      CHECK(m[0][W / 2].item<double>() == 1.0);  // DC
    }
  }
  for (const std::string kind : {"gaussian2d", "radial"}) {
    for (double R : {3.0, 6.0}) {
      INFO(kind << " R " << R);
      auto m = mask_of("mask = " + kind + "\nacceleration = " + std::to_string(R) + "\ncenter_fraction = 0.1", 4);
      const auto target = std::llround(H * W / R);
      const auto n = m.sum().item<double>();
      if (kind == "gaussian2d") CHECK(n == target);
      else CHECK((n >= target && n <= target * 1.25));
      const int64_t bh = std::llround(0.1 * H), bw = std::llround(0.1 * W);
      CHECK(m.narrow(0, (H - bh + 1) / 2, bh).narrow(1, (W - bw + 1) / 2, bw).eq(1).all().item<bool>());
      // Denser near the centre than at the border.
      CHECK(m.narrow(0, H / 4, H / 2).narrow(1, W / 4, W / 2).mean().item<double>() > m.mean().item<double>());
    }
  }
  auto a = mask_of("mask = uniform1d", 10);
  CHECK(torch::equal(a, mask_of("mask = uniform1d", 10)));
  CHECK_FALSE(torch::equal(a, mask_of("mask = uniform1d", 11)));
  // Coil maps: smooth, sum |S_k|^2 = 1; complex images (2 channels) are adjoint too.
  auto mc = build("mri", "coils = 8", {1, H, W});
  auto S = dynamic_cast<const MriOperator&>(*mc).sensitivities();
  CHECK(max_abs(S.square().sum(-1).sum(0) - 1) < 1e-12);
  CHECK(max_abs(S.diff(1, 1)) < 0.2);
  auto cx = build("mri", "image = complex\ncoils = 3\nmask = gaussian2d", {2, H, W});
  CHECK(cx->measurement_shape() == std::vector<int64_t>{1, 3, dynamic_cast<const MriOperator&>(*cx).mask().sum().item<int64_t>(), 2});
  auto x = keyed_normal({2, 2, H, W}, 1, torch::kDouble);
  auto y = keyed_normal(batch_shape(2, cx->measurement_shape()), 2, torch::kDouble);
  const double gap = std::abs(dot64(cx->forward(x), y) - dot64(x, cx->adjoint(y))) / (norm64(cx->forward(x)) * norm64(y));
  CHECK(gap < 1e-10);
  CHECK(max_abs(cx->adjoint(y) - cx->vjp_adjoint(y)) < 1e-12);
  // The DC sample of a constant single-coil image is sqrt(H W) * value (orthonormal FFT).
  auto sc = build("mri", "", {1, H, W});
  auto k = sc->forward(torch::full({1, 1, H, W}, 0.5, torch::kDouble));
  CHECK(k.abs().max().item<double>() == Approx(0.5 * std::sqrt(H * W)).epsilon(1e-12));
}

TEST_CASE("operators: ct: point sinograms, back-projection of one ray, FBP reconstructs", "[operators][ct]") {
  const int64_t N = 33;
  auto op = build("ct", "angles = 12", {1, N, N});
  const auto& ct = dynamic_cast<const CtOperator&>(*op);
  // A centred point: every projection has mass 1 at the central detector.
  auto point = torch::zeros({1, 1, N, N}, torch::kDouble);
  point[0][0][N / 2][N / 2] = 1.0;
  auto sino = op->forward(point)[0][0];
  CHECK(max_abs(sino.sum(1) - 1) < 1e-12);
  CHECK(max_abs(sino.select(1, ct.detectors() / 2) - 1) < 1e-12);
  // An off-centre point traces t = u cos + v sin.
  auto off = torch::zeros({1, 1, N, N}, torch::kDouble);
  off[0][0][N / 2 - 5][N / 2 + 7] = 1.0;  // u = 7, v = 5
  auto s2 = op->forward(off)[0][0];
  for (int64_t a = 0; a < 12; ++a) {
    const double th = ct.angles_deg()[a] * M_PI / 180;
    auto bins = torch::arange(ct.detectors(), torch::kDouble) - (ct.detectors() - 1) / 2.0;
    CHECK((s2[a] * bins).sum().item<double>() == Approx(7 * std::cos(th) + 5 * std::sin(th)).margin(1e-9));
  }
  // Adjoint of the central ray at angle 0: the central column of pixels, constant along it.
  auto ray = torch::zeros(batch_shape(1, op->measurement_shape()), torch::kDouble);
  ray[0][0][0][ct.detectors() / 2] = 1.0;
  auto bp = op->adjoint(ray)[0][0];
  CHECK(max_abs(bp.select(1, N / 2) - 1) < 1e-12);
  CHECK(bp.sum().item<double>() == Approx(N).epsilon(1e-12));
  // Limited angle: 0..119 degrees in 1-degree steps.
  auto la = build("ct", "angles = 120\nangle_max = 120", {1, 16, 16});
  const auto& ang = dynamic_cast<const CtOperator&>(*la).angles_deg();
  CHECK(ang.size() == 120);
  CHECK(ang.back() == Approx(119));
  // FBP of a disk from 180 views is close to it inside; from 8 views it is a (worse) baseline.
  const int64_t M = 48;
  auto yy = torch::arange(M, torch::kDouble).view({M, 1}) - (M - 1) / 2.0;
  auto xx = torch::arange(M, torch::kDouble).view({1, M}) - (M - 1) / 2.0;
  auto disk = ((yy.square() + xx.square()) < 14.0 * 14.0).to(torch::kDouble).view({1, 1, M, M});
  auto full = build("ct", "angles = 180", {1, M, M});
  auto rec = dynamic_cast<const CtOperator&>(*full).fbp(full->forward(disk));
  auto inner = ((yy.square() + xx.square()) < 10.0 * 10.0).view({1, 1, M, M});
  auto err_full = (rec - disk).masked_select(inner).abs().mean().item<double>();
  CHECK(err_full < 0.05);
  auto sparse = build("ct", "angles = 8", {1, M, M});
  auto rec8 = dynamic_cast<const CtOperator&>(*sparse).fbp(sparse->forward(disk));
  CHECK((rec8 - disk).masked_select(inner).abs().mean().item<double>() > err_full);
}

TEST_CASE("operators: motion_blur kernels: normalized, keyed, DPS size scaled", "[operators][blur]") {
  auto kernel_of = [](const std::string& ini, std::vector<int64_t> shape, uint64_t key) {
    auto op = build("motion_blur", ini, std::move(shape), key);
    return dynamic_cast<const MotionBlurOperator&>(*op).kernel().clone();
  };
  auto k = kernel_of("", {1, 256, 256}, 1);
  CHECK(k.size(0) == 61);  // DPS at 256
  CHECK(kernel_of("", {1, 32, 32}, 1).size(0) == 7);
  CHECK(kernel_of("", {1, 16, 16}, 1).size(0) == 5);
  for (uint64_t key = 1; key <= 10; ++key) {
    auto kk = kernel_of("kernel_size = 15", {1, 32, 32}, key);
    CHECK(kk.sum().item<double>() == Approx(1.0).epsilon(1e-12));
    CHECK(kk.min().item<double>() >= 0);
    CHECK(kk.max().item<double>() < 0.9);  // a path, not a delta
  }
  CHECK(torch::equal(kernel_of("", {1, 32, 32}, 4), kernel_of("", {1, 32, 32}, 4)));
  CHECK_FALSE(torch::equal(kernel_of("", {1, 32, 32}, 4), kernel_of("", {1, 32, 32}, 5)));
  auto op = build("motion_blur", "padding = circular", {3, 24, 40});
  auto c = torch::full({2, 3, 24, 40}, -0.4, torch::kDouble);
  CHECK(max_abs(op->forward(c) - c) < 1e-12);
  // Kernels wider than 15 go through FFTs: the same as the direct convolution.
  auto big = motion_kernel(21, 0.5, 8);
  auto x = keyed_normal({2, 3, 24, 40}, 9, torch::kDouble);
  for (const std::string padding : {"reflect", "circular", "zeros"}) {
    namespace F = torch::nn::functional;
    F::PadFuncOptions::mode_t mode = torch::kConstant;
    if (padding == "reflect") mode = torch::kReflect;
    if (padding == "circular") mode = torch::kCircular;
    auto direct = F::conv2d(F::pad(x, F::PadFuncOptions({10, 10, 10, 10}).mode(mode)),
                            big.view({1, 1, 21, 21}).expand({3, 1, 21, 21}), F::Conv2dFuncOptions().groups(3));
    CHECK(max_abs(depthwise_blur(x, big, padding) - direct) < 1e-12);
  }
}

TEST_CASE("operators: cs: orthonormal DCT, structured rows, scales to 256x256x3", "[operators][cs]") {
  for (int64_t n : {7, 8}) {
    auto eye = torch::eye(n, torch::kDouble);
    auto D = dct_ortho(eye);  // rows: DCT of unit vectors -> D^T
    CHECK(max_abs(D.t().mm(D) - eye) < 1e-12);
    const int64_t k = 2, j = 3;  // X_k = sqrt(2/n) sum x_j cos(pi (2j + 1) k / (2n))
    CHECK(D[j][k].item<double>() == Approx(std::sqrt(2.0 / n) * std::cos(M_PI * (2 * j + 1) * k / (2.0 * n))).margin(1e-14));
  }
  auto op = build("cs", "ratio = 0.1", {3, 256, 256}, 1, torch::kFloat);
  CHECK(op->measurement_shape() == std::vector<int64_t>{std::llround(0.1 * 3 * 256 * 256)});
  auto y = op->forward(keyed_normal({2, 3, 256, 256}, 1));
  CHECK(y.sizes() == torch::IntArrayRef({2, 19661}));
  auto fft = build("cs", "transform = fft\nratio = 0.5", {1, 16, 16});
  CHECK(fft->measurement_shape() == std::vector<int64_t>{128});
}

TEST_CASE("operators: colorize, phase_retrieval, saturation definitions", "[operators][nonlinear]") {
  auto col = build("colorize", "", {3, 8, 8});
  auto x = keyed_normal({2, 3, 8, 8}, 1, torch::kDouble);
  auto expect = 0.299 * x.select(1, 0) + 0.587 * x.select(1, 1) + 0.114 * x.select(1, 2);
  CHECK(max_abs(col->forward(x).squeeze(1) - expect) < 1e-14);
  CHECK(build("colorize", "weights = mean", {3, 8, 8})->forward(x).squeeze(1).sub(x.mean(1)).abs().max().item<double>() < 1e-14);
  auto grey = build("colorize", "", {1, 8, 8});
  auto g = keyed_normal({2, 1, 8, 8}, 2, torch::kDouble);
  CHECK(torch::equal(grey->forward(g), g));

  auto pr = build("phase_retrieval", "", {1, 32, 32});
  CHECK(pr->measurement_shape() == std::vector<int64_t>{1, 48, 48});  // pad int(2/8 * 32) = 8 per side
  auto img = keyed_normal({2, 1, 32, 32}, 3, torch::kDouble);
  auto y = pr->forward(img);
  CHECK(y.square().sum().item<double>() == Approx(img.square().sum().item<double>()).epsilon(1e-12));  // Parseval
  CHECK(max_abs(pr->forward(img.flip({2, 3})) - y) < 1e-10);  // the flip ambiguity
  CHECK(torch::equal(phase_retrieval_align(img.flip({2, 3}), img), img));
  CHECK(torch::equal(phase_retrieval_align(img.roll({1, -2}, {2, 3}), img, 2), img));
  // Gradients stay finite where the magnitude is 0.
  auto zero = torch::zeros({1, 1, 32, 32}, torch::kDouble).requires_grad_(true);
  pr->forward(zero).sum().backward();
  CHECK(torch::isfinite(zero.grad()).all().item<bool>());

  auto sat = build("saturation", "gain = 3", {1, 8, 8});
  CHECK(max_abs(sat->forward(g) - torch::tanh(3 * g)) < 1e-15);
}

TEST_CASE("operators: torchscript: any scripted network, mse or cross-entropy against labels", "[operators][torchscript]") {
  auto mse = build("torchscript", "", {3, 24, 20});
  CHECK(mse->measurement_shape() == std::vector<int64_t>{10});
  auto x = keyed_normal({4, 3, 24, 20}, 1, torch::kDouble);
  auto logits = mse->forward(x);
  CHECK(logits.sizes() == torch::IntArrayRef({4, 10}));
  CHECK(torch::allclose(mse->loss(logits, logits + 0.5), torch::full({4}, std::sqrt(10 * 0.25), torch::kDouble)));

  auto ce = build("torchscript", "loss = cross_entropy", {3, 24, 20});
  auto y = ce->measure(x, 1);
  CHECK(torch::equal(y.argmax(1), logits.argmax(1)));
  CHECK(torch::equal(y.sum(1), torch::ones({4}, torch::kDouble)));
  auto expect = -torch::log_softmax(logits, 1).gather(1, logits.argmax(1, true)).squeeze(1);
  CHECK(max_abs(ce->loss(logits, y) - expect) < 1e-12);
  auto fixed = build("torchscript", "loss = cross_entropy\nlabel = 7", {1, 16, 16});
  CHECK(torch::equal(fixed->measure(torch::zeros({2, 1, 16, 16}, torch::kDouble), 1).argmax(1),
                     torch::full({2}, 7, torch::kLong)));
  // The gradient of the loss reaches the image.
  auto xg = x.clone().requires_grad_(true);
  ce->loss(ce->forward(xg), y).sum().backward();
  CHECK(xg.grad().abs().sum().item<double>() > 0);
}

TEST_CASE("operators: closed-form SVDs: U S V^T = A, V orthonormal, A A^+ A = A, as the registry declares",
          "[operators][svd]") {
  for (const auto& v : all_variants()) {
    for (const auto& shape : kShapes) {
      auto op = build(v, chw(shape), 11);
      INFO(v.label() << " on " << c10::IntArrayRef(shape) << ": " << op->describe());
      const auto& caps = operator_registry().get(v.name).capabilities;
      CHECK((op->svd() != nullptr) == caps.svd);
      if (caps.projector) CHECK(std::isfinite(op->equal_singular_value()));
      if (!op->linear()) {
        CHECK_FALSE(caps.closed_form());
        continue;
      }
      auto x = keyed_normal(shape, 303, torch::kDouble);
      if (std::isfinite(op->equal_singular_value())) {  // A A^T A = c^2 A, seen through A^T A
        const double c2 = std::pow(op->equal_singular_value(), 2);
        auto n1 = op->normal(x);
        CHECK(max_abs(op->normal(n1) - c2 * n1) < 1e-10 * (1 + max_abs(n1)));
      }
      const auto* svd = op->svd();
      if (svd == nullptr) continue;
      auto s = svd->s_like(x);
      REQUIRE(s.sizes() == x.sizes().slice(1));
      CHECK(s.min().item<double>() >= 0);
      auto ax = op->forward(x);
      CHECK(max_abs(svd->U(s * svd->Vt(x)) - ax) < 1e-10 * (1 + max_abs(ax)));
      CHECK(max_abs(svd->V(svd->Vt(x)) - x) < 1e-10);
      CHECK(std::abs(norm64(svd->Vt(x)) - norm64(x)) < 1e-10 * norm64(x));
      auto y = keyed_normal(batch_shape(shape[0], op->measurement_shape()), 404, torch::kDouble);
      CHECK(max_abs(svd->V(s * svd->Ut_embed(y)) - op->adjoint(y)) < 1e-10 * (1 + max_abs(y)));
      // A A^+ A = A with A^+ y = V(Ut_embed(y) / s on s > 0).
      auto u = svd->Ut_embed(ax);
      auto pinv_ax = svd->V(torch::where(s > 0, u / torch::where(s > 0, s, torch::ones_like(s)), torch::zeros_like(u)));
      CHECK(max_abs(op->forward(pinv_ax) - ax) < 1e-8 * (1 + max_abs(ax)));
      // float32 keeps the shapes and stays close.
      auto x32 = x.to(torch::kFloat);
      CHECK(max_abs(svd->V(svd->Vt(x32)).to(torch::kDouble) - x) < 1e-4);
    }
  }
}
