// Tests for operators/: driven by the registry, so that a newly registered operator is covered by
// the adjointness, shape, gradient, measurement-noise and option tests without editing this file.
// Operators listed in kVariants are also run with each listed option variant; any other operator is
// run with its defaults.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "operators/gaussian_blur.h"
#include "operators/inpaint.h"
#include "operators/operator.h"
#include "operators/superres.h"

using namespace ipbench;

namespace {

// Option variants (INI lines) per built-in operator; unlisted operators run with their defaults.
const std::map<std::string, std::vector<std::string>> kVariants = {
    {"inpaint", {"mode = random", "mode = box", "mode = box\nbox_size = 5"}},
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
  const auto cfg = Config::from_string("[operator." + name + "]\n" + ini + "\n", "test.ini");
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
  for (const char* builtin : {"gaussian_blur", "inpaint", "superres"}) CHECK(operator_registry().contains(builtin));
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
    auto op = build(v, {3, 256, 256}, 15, torch::kFloat);
    auto zero = torch::zeros({1, 3, 256, 256});
    auto y1 = op->measure(zero, 42);
    CHECK(torch::equal(y1, op->measure(zero, 42)));
    CHECK_FALSE(torch::equal(y1, op->measure(zero, 43)));
    CHECK(y1.std().item<double>() == Approx(0.05).epsilon(0.05));
    CHECK(std::abs(y1.mean().item<double>()) < 0.005);

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
