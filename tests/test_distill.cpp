// Tests for consistency models (models/consistency.h) and consistency distillation (training/distill.h):
// the boundary condition, the scalings against hand-computed values, the Karras levels, options,
// a short distillation whose folder loads as a model and as the `cm` prior, bitwise-exact resume, and
// refusals (non-CM folders, corrupt or mismatched files, existing folders, a student with init_from_teacher).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.h"
#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "datasets/dataset.h"
#include "models/consistency.h"
#include "models/vp_eps_denoiser.h"
#include "models/denoiser.h"
#include "models/unet_checkpoint.h"
#include "error_message.h"
#include "temp_dir.h"
#include "training/distill.h"

using namespace ipbench;
namespace fs = std::filesystem;
using testing::TempDir;

namespace {

using testing::error_message;

UNetOptions tiny_unet() {
  UNetOptions u;
  u.in_channels = 1;
  u.out_channels = 1;
  u.base_channels = 8;
  u.channel_mult = {1, 2};
  u.groups = 4;
  u.image_size = 8;
  return u;
}

// A UNet whose every parameter is perturbed by keyed noise, so that its output is not zero (a fresh
// UNet's output conv is zero, which would hide the network from every test).
UNet random_unet(const UNetOptions& u, uint64_t seed) {
  UNet net(u, seed);
  torch::NoGradGuard no_grad;
  uint64_t i = 0;
  for (auto& p : net->parameters()) p.add_(0.05 * keyed_normal(p.sizes(), derive_key(seed, ++i)));
  return net;
}

// 16 smooth 8x8 images in [-1, 1].
std::string write_toy_dataset(const TempDir& dir) {
  const auto grid = torch::linspace(-1, 1, 8);
  const auto yy = grid.view({8, 1}), xx = grid.view({1, 8});
  std::vector<torch::Tensor> images;
  for (int k = 0; k < 16; ++k) images.push_back(torch::tanh(std::cos(0.7 * k) * xx + std::sin(1.3 * k) * yy).view({1, 8, 8}));
  Dataset d;
  d.images = torch::stack(images).to(torch::kFloat);
  d.attributes.source = "test";
  const std::string path = dir.file("toy.h5");
  write_dataset(path, d);
  return path;
}

std::string write_teacher(const TempDir& dir) {
  const std::string path = dir.file("teacher");
  save_unet_checkpoint(path, random_unet(tiny_unet(), 7), DiffusionOptions{}, {{"note", "test teacher"}});
  return path;
}

DistillOptions tiny_options(const std::string& data, int64_t steps) {
  DistillOptions o;
  o.data = data;
  o.pad_to = 0;
  o.steps = steps;
  o.batch_size = 4;
  o.N = 6;
  o.checkpoint_every = 3;
  o.sample_count = 4;
  o.device = "cpu";
  o.threads = 1;
  o.log_every = 1;
  o.quiet = true;
  return o;
}

void require_same_weights(UNet a, UNet b) {
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (const auto& p : pa) {
    INFO(p.key());
    CHECK(torch::equal(p.value(), pb[p.key()]));
  }
}

}  // namespace

TEST_CASE("distill: the CM boundary condition f(x, sigma_min) == x holds exactly", "[distill][consistency]") {
  ConsistencyOptions o;
  ConsistencyModel model(random_unet(tiny_unet(), 3), o);
  const torch::Tensor x = keyed_normal({3, 1, 8, 8}, 11);
  const torch::Tensor smin = torch::full({3}, o.sigma_min);
  CHECK(torch::equal(model(x, smin, false), x));
  const torch::Tensor smin64 = torch::full({3}, o.sigma_min, torch::kDouble);
  CHECK(torch::equal(model(x.to(torch::kDouble), smin64, false), x.to(torch::kDouble)));
  const torch::Tensor inside = x.clamp(-1, 1);
  CHECK(torch::equal(model(inside, smin, true), inside));
  // Away from the boundary the network matters (the test above is not vacuous).
  const torch::Tensor s = torch::full({3}, 1.0);
  UNet net = model.net();
  CHECK_FALSE(torch::allclose(consistency_function(net, x, s, o, false), cm_scalings(s, o).c_skip.view({3, 1, 1, 1}) * x));
}

TEST_CASE("distill: the vp_eps parameterization is c_skip x + (1 - c_skip) D_F with an exact boundary",
          "[distill][consistency]") {
  ConsistencyOptions o;
  o.parameterization = "vp_eps";
  ConsistencyModel model(random_unet(tiny_unet(), 5), o);
  const torch::Tensor x = keyed_normal({3, 1, 8, 8}, 12);
  CHECK(torch::equal(model(x, torch::full({3}, o.sigma_min), false), x));
  // Away from the boundary: the VP network's own VE denoiser, blended by c_skip.
  UNet net = model.net();
  auto eps = [&net](const torch::Tensor& x_vp, const torch::Tensor& t) { return net->forward(x_vp, t.to(torch::kFloat)); };
  const VpEpsDenoiser D(eps, o.vp.schedule(), {}, "test", "test",
                        VpEpsDenoiser::LearnedVariance::kNo);
  const torch::Tensor s = torch::tensor({0.5, 2.0, 40.0});
  const torch::Tensor c_skip = cm_scalings(s, o).c_skip.view({3, 1, 1, 1});
  const torch::Tensor expected = c_skip * x + (1 - c_skip) * D.predict(x, s).x0;
  CHECK(torch::allclose(model(x, s, false), expected, 1e-5, 1e-5));
  ConsistencyOptions bad = o;
  bad.parameterization = "ve";
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("parameterization is edm or vp_eps"));
}

TEST_CASE("distill: c_skip, c_out, c_in and c_noise match hand-computed values", "[distill][consistency]") {
  const ConsistencyOptions o;  // smin 0.002, sd 0.5
  const torch::Tensor sigma = torch::tensor({0.002, 0.5, 1.0, 80.0}, torch::kDouble);
  const CmScalings c = cm_scalings(sigma, o);
  // c_skip = 0.25 / ((s - 0.002)^2 + 0.25), c_out = (s - 0.002) 0.5 / sqrt(s^2 + 0.25),
  // c_in = 1 / sqrt(s^2 + 0.25), c_noise = 250 ln s (computed in Python, float64).
  const double c_skip[] = {1.0, 0.5020039999678717, 0.2006414104609616, 3.90629272263522e-05};
  const double c_out[] = {0.0, 0.35213917703090064, 0.446319168308958, 0.49997773490522646};
  const double c_in[] = {1.9999840001919975, 1.414213562373095, 0.8944271909999159, 0.012499755866527323};
  const double c_noise[] = {-1553.652024605548, -173.2867951399863, 0.0, 1095.5066586684702};
  for (int i = 0; i < 4; ++i) {
    INFO("sigma = " << sigma[i].item<double>());
    CHECK(c.c_skip[i].item<double>() == Approx(c_skip[i]).epsilon(1e-12));
    CHECK(c.c_out[i].item<double>() == Approx(c_out[i]).epsilon(1e-12).margin(1e-15));
    CHECK(c.c_in[i].item<double>() == Approx(c_in[i]).epsilon(1e-12));
    CHECK(c.c_noise[i].item<double>() == Approx(c_noise[i]).epsilon(1e-12).margin(1e-12));
  }
  CHECK(c.c_skip[0].item<double>() == 1.0);
  CHECK(c.c_out[0].item<double>() == 0.0);
}

TEST_CASE("distill: Karras noise levels", "[distill][consistency]") {
  const auto s = karras_sigmas(18, 0.002, 80, 7);
  REQUIRE(s.size() == 18);
  CHECK(s.front() == 80.0);
  CHECK(s.back() == 0.002);
  for (size_t i = 1; i < s.size(); ++i) CHECK(s[i] < s[i - 1]);
  CHECK(s[1] == Approx(57.58598472124816).epsilon(1e-12));
  CHECK(s[9] == Approx(1.9233398370400518).epsilon(1e-12));
  CHECK(karras_sigmas(40, 0.002, 80, 7)[17] == Approx(4.3656).epsilon(1e-4));  // specs/solvers.md 0.7
}

TEST_CASE("distill: default options are valid and every constraint is checked", "[distill][options]") {
  CHECK_NOTHROW(DistillOptions{}.validate());
  CHECK_NOTHROW(ConsistencyOptions{}.validate());
  const auto fails = [](auto change, const std::string& rule) {
    DistillOptions o;
    change(o);
    INFO(rule);
    CHECK_THAT(error_message([&] { o.validate(); }), Catch::Contains(rule));
  };
  fails([](DistillOptions& o) { o.data = ""; }, "DistillOptions::data");
  fails([](DistillOptions& o) { o.pad_to = -1; }, "pad_to >= 0");
  fails([](DistillOptions& o) { o.max_images = -1; }, "max_images >= 0");
  fails([](DistillOptions& o) { o.steps = 0; }, "steps >= 1");
  fails([](DistillOptions& o) { o.batch_size = 0; }, "batch_size >= 1");
  fails([](DistillOptions& o) { o.lr = 0; }, "lr > 0");
  fails([](DistillOptions& o) { o.adam_beta1 = 1; }, "adam_beta1 < 1");
  fails([](DistillOptions& o) { o.adam_beta2 = -0.1; }, "adam_beta2 < 1");
  fails([](DistillOptions& o) { o.target_ema_decay = 1; }, "target_ema_decay < 1");
  fails([](DistillOptions& o) { o.ema_decay = -1; }, "ema_decay < 1");
  fails([](DistillOptions& o) { o.N = 1; }, "N >= 2");
  fails([](DistillOptions& o) { o.karras.rho = 0; }, "rho > 0");
  fails([](DistillOptions& o) { o.karras.sigma_min = 0; }, "sigma_min > 0");
  fails([](DistillOptions& o) { o.karras.sigma_max = 0.001; }, "sigma_max > sigma_min");
  fails([](DistillOptions& o) { o.sigma_data = 0; }, "sigma_data > 0");
  fails([](DistillOptions& o) { o.loss = "lpips"; }, "loss in {l2, pseudo_huber}");
  fails([](DistillOptions& o) { o.checkpoint_every = 0; }, "checkpoint_every >= 1");
  fails([](DistillOptions& o) { o.sample_every = -1; }, "sample_every >= 0");
  fails([](DistillOptions& o) { o.sample_count = 0; }, "sample_count >= 1");
  fails([](DistillOptions& o) { o.sample_sigma = 80; }, "sample_sigma < sigma_max");
  fails([](DistillOptions& o) { o.seed = -1; }, "seed >= 0");
  fails([](DistillOptions& o) { o.device = ""; }, "DistillOptions::device");
  fails([](DistillOptions& o) { o.threads = -1; }, "threads >= 0");
  fails([](DistillOptions& o) { o.log_every = 0; }, "log_every >= 1");
  CHECK_NOTHROW(CmPriorOptions{"dir", true}.validate());
  CHECK_THAT(error_message([] { CmPriorOptions{}.validate(); }), Catch::Contains("CmPriorOptions::path"));
}

TEST_CASE("distill: a short run writes a model that loads as a ConsistencyModel and as the cm prior", "[distill]") {
  TempDir dir;
  const std::string data = write_toy_dataset(dir), teacher = write_teacher(dir), out = dir.file("cm");
  const DistillResult r = distill_consistency(tiny_options(data, 4), teacher, out, false, "test command");
  INFO(r.brief());
  REQUIRE(r.status == DistillStatus::kCompleted);
  REQUIRE(r.losses.size() == 4);
  for (double l : r.losses) CHECK((std::isfinite(l) && l > 0));
  CHECK(r.last_step == 4);
  for (const char* f : {"model.ini", "model.pt", "train_state.pt", "distill_log.csv", "samples_step3_1step.png",
                        "samples_step3_2step.png", "samples_step4_1step.png", "samples_step4_2step.png"})
    CHECK(fs::is_regular_file(fs::path(out) / f));

  const auto model = load_consistency_model(out);
  CHECK(model->image_shape() == std::vector<int64_t>{1, 8, 8});
  CHECK(model->training.at("step") == "4");
  CHECK(model->training.at("command") == "test command");
  CHECK(model->options().sigma_max == 80.0);

  register_builtin_priors();
  const Config config = Config::from_string(str_cat("[prior]\ntype = cm\npath = ", out, "\n"), "test");
  PriorContext ctx;
  ctx.image_shape = {1, 8, 8};
  const auto prior = prior_registry().get("cm").make(config.section("prior"), ctx);
  const torch::Tensor x = keyed_normal({2, 1, 8, 8}, 5);
  const torch::Tensor sigma = torch::tensor({80.0f, 1.0f});
  const torch::Tensor x0 = prior->denoise(x, sigma);
  CHECK(x0.sizes() == x.sizes());
  CHECK(torch::equal(x0, (*model)(x, sigma, true)));
  CHECK(x0.abs().max().item<double>() <= 1.0);
  CHECK(prior->describe().find("cm:") == 0);
  // float64 in, float64 out, differentiable in x (solvers take gradients through the prior).
  const torch::Tensor x64 = x.to(torch::kDouble).requires_grad_(true);
  const torch::Tensor D = prior->denoise(x64, torch::tensor({0.02, 50.0}, torch::kDouble));
  CHECK(D.scalar_type() == torch::kDouble);
  D.sum().backward();
  REQUIRE(x64.grad().defined());
  CHECK(torch::isfinite(x64.grad()).all().item<bool>());
  CHECK(x64.grad().abs().sum().item<double>() > 0);
  auto* cm = dynamic_cast<CmPrior*>(prior.get());
  REQUIRE(cm != nullptr);
  CHECK(cm->model().options().sigma_min == 0.002);
  // Wrong image shape for the benchmark: an Error naming both shapes.
  ctx.image_shape = {1, 16, 16};
  CHECK_THAT(error_message([&] { prior_registry().get("cm").make(config.section("prior"), ctx); }),
             Catch::Contains("1x8x8") && Catch::Contains("1x16x16"));
}

TEST_CASE("distill: Euler teacher, pseudo-Huber loss and a fresh smaller student", "[distill]") {
  TempDir dir;
  const std::string data = write_toy_dataset(dir), teacher = write_teacher(dir), out = dir.file("cm");
  DistillOptions o = tiny_options(data, 3);
  o.heun = false;
  o.loss = "pseudo_huber";
  o.init_from_teacher = false;
  UNetOptions student = tiny_unet();
  student.base_channels = 4;
  student.groups = 2;
  student.attention = false;
  const DistillResult r = distill_consistency(o, teacher, out, false, "test", student);
  REQUIRE(r.status == DistillStatus::kCompleted);
  for (double l : r.losses) CHECK(std::isfinite(l));
  CHECK(load_consistency_model(out)->unet_options().base_channels == 4);
  // A student architecture with init_from_teacher = true is refused.
  o.init_from_teacher = true;
  CHECK_THAT(error_message([&] { distill_consistency(o, teacher, dir.file("other"), false, "test", student); }),
             Catch::Contains("init_from_teacher"));
}

TEST_CASE("distill: bf16 autocast distillation runs on the CPU; fp16 is refused there", "[distill][precision]") {
  TempDir dir;
  const std::string data = write_toy_dataset(dir), teacher = write_teacher(dir);
  DistillOptions o = tiny_options(data, 3);
  const DistillResult fp32 = distill_consistency(o, teacher, dir.file("fp32"), false, "t");
  o.precision = "bf16";
  const DistillResult bf16 = distill_consistency(o, teacher, dir.file("bf16"), false, "t");
  REQUIRE(bf16.status == DistillStatus::kCompleted);
  REQUIRE(bf16.losses.size() == 3);
  for (double l : bf16.losses) CHECK(std::isfinite(l));
  // Same batch and weights at step 1: the losses differ by bf16 rounding only.
  INFO("first loss fp32 " << fp32.losses[0] << ", bf16 " << bf16.losses[0]);
  CHECK(bf16.losses[0] != fp32.losses[0]);
  CHECK(std::abs(bf16.losses[0] - fp32.losses[0]) < 0.1 * fp32.losses[0]);
  CHECK_THAT(bf16.brief(), Catch::Contains("cpu, bf16"));
  const Config ini = Config::from_file(dir.file("bf16") + "/model.ini");
  REQUIRE(ini.section("training").find("precision") != nullptr);
  CHECK(ini.section("training").find("precision")->value == "bf16");
  o.precision = "fp16";
  CHECK_THAT(error_message([&] { distill_consistency(o, teacher, dir.file("fp16"), false, "t"); }),
             Catch::Contains("fp16") && Catch::Contains("CUDA"));
}

TEST_CASE("distill: a resumed run is bitwise identical to an uninterrupted one (CPU)", "[distill][resume]") {
  TempDir dir;
  const std::string data = write_toy_dataset(dir), teacher = write_teacher(dir);
  const DistillResult full = distill_consistency(tiny_options(data, 6), teacher, dir.file("full"), false, "t");
  const DistillResult first = distill_consistency(tiny_options(data, 3), teacher, dir.file("split"), false, "t");
  const DistillResult second = distill_consistency(tiny_options(data, 6), teacher, dir.file("split"), true, "t");
  REQUIRE(full.losses.size() == 6);
  REQUIRE(first.losses.size() == 3);
  REQUIRE(second.losses.size() == 3);
  CHECK(second.start_step == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(first.losses[i] == full.losses[i]);
    CHECK(second.losses[i] == full.losses[i + 3]);
  }
  CHECK(second.loss_ema == full.loss_ema);
  require_same_weights(load_consistency_model(dir.file("full"))->net(), load_consistency_model(dir.file("split"))->net());
  // Resuming a finished run does nothing.
  const DistillResult again = distill_consistency(tiny_options(data, 6), teacher, dir.file("split"), true, "t");
  CHECK(again.losses.empty());
  CHECK(again.last_step == 6);
}

TEST_CASE("distill: refusals name the problem", "[distill][errors]") {
  TempDir dir;
  const std::string data = write_toy_dataset(dir), teacher = write_teacher(dir), out = dir.file("cm");
  const auto o = tiny_options(data, 1);
  distill_consistency(o, teacher, out, false, "t");
  CHECK_THAT(error_message([&] { distill_consistency(o, teacher, out, false, "t"); }), Catch::Contains("--resume"));
  CHECK_THAT(error_message([&] { distill_consistency(o, teacher, dir.file("none"), true, "t"); }),
             Catch::Contains("train_state.pt"));
  CHECK_THAT(error_message([&] { distill_consistency(o, out, dir.file("x"), false, "t"); }),
             Catch::Contains("prediction"));  // a CM is not a DDPM teacher
  // Data of another size than the teacher's.
  DistillOptions big = o;
  big.data = "fashion-mnist:train";
  big.max_images = 1;
  if (fs::exists(kFashionMnistDir)) {
    CHECK_THAT(error_message([&] { distill_consistency(big, teacher, dir.file("y"), false, "t"); }),
               Catch::Contains("teacher expects 1x8x8"));
  }
}

TEST_CASE("distill: load_consistency_model refuses non-CM, missing, corrupt and mismatched folders", "[distill][errors]") {
  TempDir dir;
  const std::string teacher = write_teacher(dir);
  CHECK_THAT(error_message([&] { load_consistency_model(teacher); }), Catch::Contains("not a consistency model"));
  CHECK_THAT(error_message([&] { load_consistency_model(dir.file("missing")); }), Catch::Contains("no such model folder"));

  const std::string good = dir.file("good");
  save_consistency_model(good, random_unet(tiny_unet(), 1), ConsistencyOptions{}, {{"note", "x;y#z\nw"}});
  CHECK(load_consistency_model(good)->training.at("note") == "x y z w");

  const auto copy = [&](const std::string& name) {
    const std::string d = dir.file(name);
    fs::copy(good, d);
    return d;
  };
  const std::string no_pt = copy("no_pt");
  fs::remove(fs::path(no_pt) / "model.pt");
  CHECK_THAT(error_message([&] { load_consistency_model(no_pt); }), Catch::Contains("model.pt: missing"));

  const std::string corrupt = copy("corrupt");
  std::ofstream(fs::path(corrupt) / "model.pt") << "not a torch archive";
  CHECK_THAT(error_message([&] { load_consistency_model(corrupt); }), Catch::Contains("cannot read UNet weights"));

  const auto edit_ini = [&](const std::string& name, const std::string& from, const std::string& to) {
    const std::string d = copy(name);
    const fs::path ini = fs::path(d) / "model.ini";
    std::stringstream ss;
    ss << std::ifstream(ini).rdbuf();
    std::string text = ss.str();
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
    std::ofstream(ini, std::ios::trunc) << text;
    return d;
  };
  const std::string arch = edit_ini("arch", "base_channels = 8", "base_channels = 16");
  CHECK_THAT(error_message([&] { load_consistency_model(arch); }), Catch::Contains("do not match the architecture"));
  const std::string eps = edit_ini("eps", "prediction = consistency", "prediction = eps");
  CHECK_THAT(error_message([&] { load_consistency_model(eps); }), Catch::Contains("not a consistency model"));
  const std::string bad = edit_ini("bad", "sigma_max = 80", "sigma_max = 0.001");
  CHECK_THAT(error_message([&] { load_consistency_model(bad); }), Catch::Contains("sigma_max > sigma_min"));
  const std::string unknown = edit_ini("unknown", "[consistency]\n", "[consistency]\nsigma_mid = 1\n");
  CHECK_THAT(error_message([&] { load_consistency_model(unknown); }), Catch::Contains("sigma_mid"));
}

TEST_CASE("distill: configs/distill-fmnist.ini is a valid distillation config", "[distill][config]") {
  const Config config = Config::from_file(std::string(IPBENCH_SOURCE_DIR) + "/configs/distill-fmnist.ini");
  const auto o = read_options<DistillOptions>(config.section("distill"));
  CHECK_NOTHROW(config.check_all_used());
  CHECK(o.data == "fashion-mnist:train");
  CHECK(o.pad_to == 32);
  CHECK(o.init_from_teacher);
  CHECK(o.N == 18);
}
