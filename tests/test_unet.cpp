// Tests for the UNet (models/unet.h), its model folder (models/unet_checkpoint.h), the shared VP eps
// wrapper (models/vp_eps_denoiser.h) and the `unet` prior. Tiny networks keep the whole file fast.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "models/denoiser.h"
#include "models/group_norm.h"
#include "models/prior_util.h"
#include "models/schedule.h"
#include "models/unet.h"
#include "models/unet_checkpoint.h"
#include "models/unet_prior.h"
#include "models/vp_eps_denoiser.h"
#include "temp_dir.h"

using namespace ipbench;
using testing::TempDir;

namespace {
// Two levels of 8 and 16 channels: a few thousand parameters.
UNetOptions tiny(int64_t channels = 1) {
  UNetOptions o;
  o.in_channels = o.out_channels = channels;
  o.base_channels = 8;
  o.channel_mult = {1, 2};
  o.groups = 4;
  o.image_size = 8;
  return o;
}

// Replaces every parameter by keyed normals: a fresh UNet's zero-initialized layers would hide the
// rest of the network from gradients and outputs.
void randomize(UNet& net, uint64_t key) {
  torch::NoGradGuard no_grad;
  int64_t i = 0;
  for (auto& p : net->parameters()) p.copy_(0.2 * keyed_normal(p.sizes(), derive_key(key, i++)));
}

bool identical_weights(UNet& a, UNet& b) {
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  if (pa.size() != pb.size()) return false;
  for (const auto& p : pa)
    if (!pb.contains(p.key()) || !torch::equal(p.value(), pb[p.key()])) return false;
  return true;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void replace_in_file(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = read_text(path);
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  std::ofstream(path) << text.replace(pos, from.size(), to);
}

// A saved tiny UNet with random weights; returns the model that was saved.
UNet save_tiny(const std::string& dir, UNetOptions o = tiny()) {
  UNet net(o, 7);
  randomize(net, 99);
  DiffusionOptions d;
  d.vp.T = 500;
  d.vp.beta_start = 1.234567890123e-4;
  save_unet_checkpoint(dir, net, d, {{"step", "120"}, {"command", "ipbench train --config x.ini"}});
  return net;
}

Section prior_section(const std::string& path) {
  Section s("prior", "(test)");
  s.set("path", path, "(test)");
  return s;
}
}  // namespace

TEST_CASE("unet: forward shapes for 1 and 3 channels, square and non-square inputs", "[unet]") {
  UNet one(tiny(1));
  const auto t = torch::tensor({3.0f, 999.5f});
  CHECK(one->forward(torch::zeros({2, 1, 32, 32}), t).sizes() == std::vector<int64_t>{2, 1, 32, 32});
  CHECK(one->forward(torch::zeros({2, 1, 16, 24}), t).sizes() == std::vector<int64_t>{2, 1, 16, 24});
  UNetOptions o = tiny(3);
  o.out_channels = 6;
  o.channel_mult = {1, 2, 2};
  o.attention = false;
  UNet three(o);
  CHECK(three->forward(torch::zeros({2, 3, 16, 24}), t).sizes() == std::vector<int64_t>{2, 6, 16, 24});
  CHECK(three->forward(torch::zeros({1, 3, 32, 32}), torch::tensor(5.0)).sizes() == std::vector<int64_t>{1, 6, 32, 32});
  // A fresh network predicts 0 (zero-initialized output conv, as DDPM).
  CHECK(one->forward(torch::randn({2, 1, 8, 8}), t).abs().max().item<float>() == 0.0f);
}

TEST_CASE("unet: default options are valid and give 0.3M to 0.6M parameters", "[unet]") {
  CHECK_NOTHROW(UNetOptions{}.validate());
  UNet net{UNetOptions{}};
  INFO("default UNet parameters: " << net->parameter_count());
  CHECK(net->parameter_count() >= 300000);
  CHECK(net->parameter_count() <= 600000);
  int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  CHECK(net->parameter_count() == n);
}

TEST_CASE("unet: gradients reach every parameter", "[unet]") {
  UNet net(tiny(1), 3);
  randomize(net, 11);
  net->train();
  const auto x = keyed_normal({2, 1, 8, 8}, 21);
  net->forward(x, torch::tensor({10.0, 400.25})).square().mean().backward();
  for (const auto& p : net->named_parameters()) {
    INFO("parameter " << p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(torch::isfinite(p.value().grad()).all().item<bool>());
    CHECK(p.value().grad().abs().max().item<float>() > 0);
  }
}

TEST_CASE("unet: group_norm matches torch::group_norm and its input gradient ignores the thread count",
          "[unet][determinism]") {
  // [4, 48, 32, 32] in 8 groups (6 channels a group) is the shipped UNet's shape whose LibTorch input
  // gradient changed with the thread count (models/group_norm.h).
  const auto x0 = keyed_normal({4, 48, 32, 32}, 3) * 2 + 0.5;
  const auto dy = keyed_normal({4, 48, 32, 32}, 4);
  const auto w = keyed_normal({48}, 5), b = keyed_normal({48}, 6);
  auto grad = [&](bool ours, int threads, torch::Tensor* y) {
    at::set_num_threads(threads);
    const auto x = x0.clone().requires_grad_(true);
    const auto out = ours ? group_norm(x, 8, w, b, 1e-5) : torch::group_norm(x, 8, w, b, 1e-5);
    if (y) *y = out.detach();
    return torch::autograd::grad({out}, {x}, {dy})[0];
  };
  const int saved = at::get_num_threads();
  torch::Tensor y_ours, y_torch;
  const auto g1 = grad(true, 1, &y_ours), g2 = grad(true, 2, nullptr), g3 = grad(true, 3, nullptr);
  const auto ref = grad(false, 1, &y_torch);
  at::set_num_threads(saved);
  CHECK(torch::equal(y_ours, y_torch));  // the forward is LibTorch's
  CHECK(torch::equal(g1, g2));           // bitwise, whatever the thread count
  CHECK(torch::equal(g1, g3));
  CHECK((g1 - ref).abs().max().item<double>() <= 1e-5 * ref.abs().max().item<double>());
}

TEST_CASE("unet: group_norm's gradients pass gradcheck (input, scale and shift)", "[unet]") {
  const auto x = (keyed_normal({2, 6, 3, 4}, 7, torch::kDouble) * 1.5).requires_grad_(true);
  const auto w = keyed_normal({6}, 8, torch::kDouble).requires_grad_(true),
             b = keyed_normal({6}, 9, torch::kDouble).requires_grad_(true);
  const auto dy = keyed_normal({2, 6, 3, 4}, 10, torch::kDouble);
  auto f = [&](const torch::Tensor& xx, const torch::Tensor& ww, const torch::Tensor& bb, bool ours) {
    return ours ? group_norm(xx, 3, ww, bb, 1e-5) : torch::group_norm(xx, 3, ww, bb, 1e-5);
  };
  const auto ours = torch::autograd::grad({f(x, w, b, true)}, {x, w, b}, {dy});
  const auto ref = torch::autograd::grad({f(x, w, b, false)}, {x, w, b}, {dy});
  REQUIRE(x.scalar_type() == torch::kDouble);
  for (size_t i = 0; i < 3; ++i) {
    INFO("gradient " << i << ": max difference " << (ours[i] - ref[i]).abs().max().item<double>());
    CHECK(torch::allclose(ours[i], ref[i], 1e-10, 1e-12));
  }
  // central differences on the input: d/dx <dy, y(x)>
  const auto xd = x.detach();
  const double h = 1e-6;
  for (int64_t k : {0, 17, 40}) {
    auto e = torch::zeros_like(xd);
    e.view(-1).index_put_({k}, h);
    const double fp = (f(xd + e, w.detach(), b.detach(), false) * dy).sum().item<double>();
    const double fm = (f(xd - e, w.detach(), b.detach(), false) * dy).sum().item<double>();
    CHECK(ours[0].view(-1)[k].item<double>() == Approx((fp - fm) / (2 * h)).epsilon(1e-6));
  }
}

TEST_CASE("unet: bad sizes, channels, timesteps and options are errors naming the problem", "[unet]") {
  UNetOptions o = tiny(1);
  o.channel_mult = {1, 2, 2};  // sizes must be multiples of 4
  UNet net(o);
  const auto t2 = torch::zeros({2});
  CHECK_THROWS_WITH(net->forward(torch::zeros({2, 1, 30, 32}), t2),
                    Catch::Contains("30x32") && Catch::Contains("2^(levels-1) = 4"));
  CHECK_THROWS_AS(net->forward(torch::zeros({2, 1, 32, 18}), t2), Error);
  CHECK_THROWS_WITH(net->forward(torch::zeros({2, 3, 32, 32}), t2), Catch::Contains("in_channels = 1"));
  CHECK_THROWS_WITH(net->forward(torch::zeros({2, 1, 32, 32}), torch::zeros({3})), Catch::Contains("timestep"));
  CHECK_THROWS_AS(net->forward(torch::zeros({1, 32, 32}), t2), Error);

  auto bad = [](auto mutate, const char* field) {
    UNetOptions b = tiny(1);
    mutate(b);
    INFO("field " << field);
    CHECK_THROWS_WITH(b.validate(), Catch::Contains(std::string("UNetOptions::") + field));
    CHECK_THROWS_AS(UNet(b), Error);
  };
  bad([](UNetOptions& b) { b.in_channels = 0; }, "in_channels");
  bad([](UNetOptions& b) { b.out_channels = 0; }, "out_channels");
  bad([](UNetOptions& b) { b.base_channels = 1; }, "base_channels");
  bad([](UNetOptions& b) { b.channel_mult = {}; }, "channel_mult");
  bad([](UNetOptions& b) { b.channel_mult = {1, 0}; }, "channel_mult");
  bad([](UNetOptions& b) { b.num_res_blocks = 0; }, "num_res_blocks");
  bad([](UNetOptions& b) { b.groups = 0; }, "groups");
  bad([](UNetOptions& b) { b.groups = 3; }, "groups");
  bad([](UNetOptions& b) { b.dropout = 1.0; }, "dropout");
  bad([](UNetOptions& b) { b.dropout = -0.1; }, "dropout");
  bad([](UNetOptions& b) { b.image_size = 6, b.channel_mult = {1, 2, 2}; }, "image_size");
}

TEST_CASE("unet: the same init_seed gives identical weights, different seeds differ", "[unet]") {
  UNet a(tiny(1), 5), b(tiny(1), 5), c(tiny(1), 6);
  CHECK(identical_weights(a, b));
  CHECK_FALSE(identical_weights(a, c));
  const auto w = a->named_parameters()["down.0.conv1.weight"];
  const double bound = std::sqrt(3.0 / (0.5 * (8 + 8) * 9));  // DDPM's fan_avg uniform
  CHECK(w.abs().max().item<double>() <= bound);
  CHECK(w.abs().max().item<double>() > 0.9 * bound);
  CHECK(a->named_parameters()["down.0.norm1.weight"].eq(1).all().item<bool>());
  CHECK(a->named_parameters()["up.0.conv2.weight"].eq(0).all().item<bool>());
  a->initialize(6);
  CHECK(identical_weights(a, c));
}

TEST_CASE("unet: checkpoint round trip is bitwise and keeps every option", "[unet]") {
  const TempDir tmp;
  const std::string dir = tmp.file("model");
  UNetOptions o = tiny(1);
  o.dropout = 0.25;
  UNet saved = save_tiny(dir, o);
  CHECK(std::filesystem::exists(dir + "/model.ini"));
  CHECK(std::distance(std::filesystem::directory_iterator(dir), {}) == 2);  // model.ini, model.pt: no temporary left
  const UNetCheckpoint c = load_unet_checkpoint(dir);
  CHECK_FALSE(c.model->is_training());
  CHECK(c.unet.channel_mult == o.channel_mult);
  CHECK(c.unet.dropout == 0.25);
  CHECK(c.diffusion.vp.T == 500);
  CHECK(c.diffusion.vp.beta_start == 1.234567890123e-4);
  CHECK(c.training.at("step") == "120");
  CHECK(c.training.at("command") == "ipbench train --config x.ini");
  UNet loaded = c.model;
  CHECK(identical_weights(saved, loaded));
  saved->eval();
  const auto x = keyed_normal({3, 1, 8, 8}, 31);
  const auto t = torch::tensor({0.0, 17.5, 499.0});
  CHECK(torch::equal(saved->forward(x, t), loaded->forward(x, t)));
  UNet fresh(o, 1);
  load_unet_weights(fresh, dir + "/model.pt", "test options");
  CHECK(identical_weights(saved, fresh));
  UNet other(tiny(3));
  CHECK_THROWS_WITH(load_unet_weights(other, dir + "/model.pt", "test options"),
                    Catch::Contains("test options") && Catch::Contains("conv_in.weight is 8x1x3x3 in the file"));
  // Provenance values are put on one line (';', '#', line breaks become spaces); a key that would not
  // read back is refused.
  save_unet_checkpoint(tmp.file("odd"), saved, DiffusionOptions{}, {{"note", "a # b\nc"}});
  CHECK(load_unet_checkpoint(tmp.file("odd")).training.at("note") == "a   b c");
  CHECK_THROWS_WITH(save_unet_checkpoint(tmp.file("bad"), saved, DiffusionOptions{}, {{"no=te", "x"}}),
                    Catch::Contains("no=te"));
}

TEST_CASE("unet: the unet prior predicts x - sigma * eps(sqrt(abar) x, t)", "[unet]") {
  const TempDir tmp;
  const std::string dir = tmp.file("model");
  save_tiny(dir);
  register_builtin_priors();
  PriorContext ctx;
  ctx.image_shape = {1, 8, 8};
  const auto prior = prior_registry().get("unet").make(prior_section(dir), ctx);
  CHECK(prior->image_shape() == ctx.image_shape);
  CHECK_THAT(prior->describe(), Catch::Contains(dir) && Catch::Contains("step 120") &&
                                    Catch::Contains(std::to_string(UNet(tiny(1))->parameter_count())));

  const auto sched = VpSchedule::linear(500, 1.234567890123e-4, 0.02);
  const auto sigma = torch::tensor({static_cast<float>(sched.sigma(10)), 0.37f, 20.0f});
  auto x = keyed_normal({3, 1, 8, 8}, 41).requires_grad_(true);
  const Prediction p = prior->predict(x, sigma);
  CHECK_FALSE(p.var_frac.defined());
  // By hand: the timesteps, the VP input and the network.
  UNetCheckpoint c = load_unet_checkpoint(dir);
  const auto t = torch::tensor({10.0, sched.timestep_for_sigma(0.37f), sched.timestep_for_sigma(20.0f)}, torch::kDouble);
  const auto s = sigma.reshape({3, 1, 1, 1});
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = x - s * c.model->forward((1 + s * s).rsqrt() * x, t);
  }
  CHECK((p.x0 - expected).abs().max().item<float>() <= 1e-6f);
  CHECK((p.x0 - x).abs().max().item<float>() > 1e-3f);  // the network does something
  p.x0.sum().backward();  // differentiable in x
  CHECK(torch::isfinite(x.grad()).all().item<bool>());

  // float64 context, and shape errors naming both shapes.
  PriorContext ctx64 = ctx;
  ctx64.dtype = torch::kDouble;
  const auto prior64 = prior_registry().get("unet").make(prior_section(dir), ctx64);
  const auto x0_64 = prior64->denoise(x.detach().to(torch::kDouble), sigma.to(torch::kDouble));
  CHECK(x0_64.scalar_type() == torch::kDouble);
  CHECK((x0_64 - p.x0.to(torch::kDouble)).abs().max().item<double>() < 1e-4);
  PriorContext wrong = ctx;
  wrong.image_shape = {1, 16, 16};
  CHECK_THROWS_WITH(prior_registry().get("unet").make(prior_section(dir), wrong),
                    Catch::Contains("1x8x8") && Catch::Contains("1x16x16"));
  CHECK_THROWS_WITH(prior->denoise(torch::zeros({1, 1, 4, 4}), torch::tensor(1.0f)), Catch::Contains("1x4x4"));
  CHECK_THROWS_WITH(prior_registry().get("unet").make(prior_section(""), ctx), Catch::Contains("path"));
}

TEST_CASE("unet: a model.ini whose architecture was edited is an error naming both files", "[unet]") {
  const TempDir tmp;
  const std::string dir = tmp.file("model");
  save_tiny(dir);
  replace_in_file(dir + "/model.ini", "base_channels = 8", "base_channels = 12");
  CHECK_THROWS_WITH(load_unet_checkpoint(dir), Catch::Contains("do not match") &&
                                                   Catch::Contains(dir + "/model.pt") &&
                                                   Catch::Contains(dir + "/model.ini"));
  replace_in_file(dir + "/model.ini", "base_channels = 12", "base_channels = 8");
  replace_in_file(dir + "/model.ini", "attention = true", "attention = false");
  CHECK_THROWS_WITH(load_unet_checkpoint(dir), Catch::Contains("do not match"));
}

TEST_CASE("unet: unknown keys, missing files and corrupt weights are errors naming the path", "[unet]") {
  const TempDir tmp;
  const std::string dir = tmp.file("model");
  save_tiny(dir);
  replace_in_file(dir + "/model.ini", "[diffusion]", "[diffusion]\nwidth_factor = 2");
  CHECK_THROWS_WITH(load_unet_checkpoint(dir), Catch::Contains("width_factor") && Catch::Contains("unknown key"));

  save_tiny(dir);  // overwrites the folder atomically
  CHECK_NOTHROW(load_unet_checkpoint(dir));
  std::ofstream(dir + "/model.pt") << "not a checkpoint";
  CHECK_THROWS_WITH(load_unet_checkpoint(dir), Catch::Contains(dir + "/model.pt"));
  std::filesystem::remove(dir + "/model.pt");
  CHECK_THROWS_WITH(load_unet_checkpoint(dir), Catch::Contains(dir + "/model.pt"));
  std::filesystem::remove(dir + "/model.ini");
  CHECK_THROWS_WITH(load_unet_checkpoint(dir), Catch::Contains(dir + "/model.ini"));
  CHECK_THROWS_WITH(load_unet_checkpoint(tmp.file("none")), Catch::Contains(tmp.file("none")));

  DiffusionOptions d;
  CHECK_NOTHROW(d.validate());
  d.prediction = "v";
  CHECK_THROWS_WITH(d.validate(), Catch::Contains("DiffusionOptions::prediction"));
  d = DiffusionOptions{};
  d.vp.beta_end = 1e-5;
  CHECK_THROWS_WITH(d.validate(), Catch::Contains("DiffusionOptions::beta_end"));
}

TEST_CASE("unet: VpEpsDenoiser maps VP eps to x0 and checks the output channels", "[unet][vp]") {
  const auto sched = VpSchedule::linear();
  // eps = 2 x_VP + t / 1000: the wrapper must feed x_VP = x / sqrt(1 + sigma^2) and t(sigma).
  auto linear_eps = [](const torch::Tensor& x_vp, const torch::Tensor& t) {
    return 2 * x_vp + t.to(x_vp.options()).reshape({-1, 1, 1, 1}) / 1000;
  };
  const VpEpsDenoiser d(linear_eps, sched, {1, 3, 3}, "test wrapper", "a test");
  const auto x = keyed_normal({2, 1, 3, 3}, 51, torch::kDouble);
  const auto sigma = torch::tensor({sched.sigma(100), 3.0}, torch::kDouble);
  const auto s = sigma.reshape({2, 1, 1, 1});
  const auto t = torch::tensor({100.0, sched.timestep_for_sigma(3.0)}, torch::kDouble).reshape({2, 1, 1, 1});
  const auto expected = x - s * (2 * x / (1 + s * s).sqrt() + t / 1000);
  CHECK((d.denoise(x, sigma) - expected).abs().max().item<double>() < 1e-12);
  CHECK(d.describe() == "a test");
  CHECK_THROWS_WITH(d.denoise(torch::zeros({1, 1, 4, 4}, torch::kDouble), sigma.narrow(0, 0, 1)),
                    Catch::Contains("test wrapper") && Catch::Contains("1x4x4"));

  auto three = [](const torch::Tensor& x_vp, const torch::Tensor&) { return torch::cat({x_vp, x_vp, x_vp}, 1); };
  const VpEpsDenoiser d3(three, sched, {}, "three", "");
  CHECK_THROWS_WITH(d3.denoise(x, sigma), Catch::Contains("2x3x3x3") && Catch::Contains("2x1x3x3"));
  auto two = [](const torch::Tensor& x_vp, const torch::Tensor&) { return torch::cat({x_vp, x_vp.tanh()}, 1); };
  CHECK(VpEpsDenoiser(two, sched, {}, "two", "").predict(x, sigma).var_frac.defined());
  using LV = VpEpsDenoiser::LearnedVariance;
  CHECK_FALSE(VpEpsDenoiser(two, sched, {}, "two", "", LV::kNo).predict(x, sigma).var_frac.defined());
  CHECK_THROWS_WITH(VpEpsDenoiser(linear_eps, sched, {}, "one", "", LV::kYes).denoise(x, sigma),
                    Catch::Contains("learned_variance"));
}

TEST_CASE("unet: the UNet and the unet prior run on the GPU", "[unet][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: skipped");
    return;
  }
  const TempDir tmp;
  const std::string dir = tmp.file("model");
  UNet net = save_tiny(dir);
  net->eval();
  const auto x = keyed_normal({2, 1, 8, 8}, 61);
  const auto t = torch::tensor({3.0, 250.5});
  const auto cpu = net->forward(x, t);
  net->to(torch::kCUDA);
  // cuDNN runs float32 convolutions in TF32 on Ampere and later GPUs (10-bit mantissa): the GPU
  // agrees with the CPU to a few 1e-3 relative, not to float32 rounding.
  const float diff = (net->forward(x.cuda(), t).cpu() - cpu).abs().max().item<float>();
  const float scale = cpu.abs().max().item<float>();
  INFO("max |GPU - CPU| = " << diff << ", max |CPU| = " << scale);
  CHECK(diff < 5e-3f * (1.0f + scale));
  register_builtin_priors();
  PriorContext ctx;
  ctx.device = torch::kCUDA;
  ctx.image_shape = {1, 8, 8};
  const auto prior = prior_registry().get("unet").make(prior_section(dir), ctx);
  const auto D = prior->denoise(x.cuda(), torch::tensor({0.1f, 1.0f}, torch::kCUDA));
  CHECK(D.device().is_cuda());
  CHECK(torch::isfinite(D).all().item<bool>());
}
