// Metrics after the fact (reports/rescore.h) and the torchscript_feature family (metrics/feature_metric.h).
#include <torch/script.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/rng.h"
#include "harness/run_folder.h"
#include "metrics/feature_metric.h"
#include "reports/rescore.h"
#include "stats/distribution_distance.h"
#include "synthetic_run.h"
#include "temp_dir.h"

using namespace ipbench;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A TorchScript module with the given forward body (one statement: `return ...` of x), saved to dir/name.
std::string script_module(const fs::path& dir, const std::string& name, const std::string& body) {
  torch::jit::Module m("Net");
  m.define("def forward(self, x):\n    return " + body + "\n");
  const auto path = (dir / name).string();
  m.save(path);
  return path;
}

/// A small run of DPS on a narrow Gaussian prior (outputs well inside [-1, 1]), reconstructions stored.
std::string small_run(const fs::path& dir, const std::string& metrics, bool save = true, const std::string& extra = "") {
  const auto data = testing::write_synthetic_dataset(dir);
  return "[benchmark]\nname = t\nitems = 3\nsamples_per_item = 4\noperators = inpaint\nsolvers = dps\n"
         "designs = iid, antithetic\nmetrics = " + metrics + "\ndevice = cpu\nsave_reconstructions = " +
         (save ? "true" : "false") + "\n[dataset]\nsource = " + data +
         "\npad_to = 0\n[prior]\ntype = gaussian\nmean = 0\nvariance = 0.02\n[operator.inpaint]\n"
         "[solver.dps]\nsteps = 4\nzeta = 0.5\n" + extra;
}

RescoreOptions quiet(std::vector<std::string> metrics, std::string config = "") {
  RescoreOptions o;
  o.metrics = std::move(metrics);
  o.metric_config = std::move(config);
  o.progress = false;
  o.resamples = 200;
  return o;
}

}  // namespace

TEST_CASE("rescore: recomputes the run's metrics exactly from stored reconstructions and adds new ones",
          "[rescore]") {
  testing::TempDir tmp;
  const auto run = tmp.path / "run";
  const auto original = testing::run_config_text(small_run(tmp.path, "l1, psnr, residual"), run).records;
  // The same run with ssim among its metrics: what the added column must equal.
  const auto reference = testing::run_config_text(small_run(tmp.path, "l1, psnr, residual, ssim"), tmp.path / "ref").records;
  const std::string net = script_module(tmp.path, "pixels.pt", "x.flatten(1)");

  const RescoreOutcome out = rescore_run(
      run.string(), quiet({"l1", "psnr", "residual", "ssim", "pix"},
                          "[metric.pix]\ntype = torchscript_feature\npath = " + net + "\n"));
  REQUIRE(out.records.size() == original.size());
  CHECK(out.samples_scored == static_cast<int64_t>(original.size()));
  CHECK(out.added == std::vector<std::string>{"ssim", "pix"});
  REQUIRE(out.checked.size() == 3);
  for (const auto& c : out.checked) {
    INFO(c.metric);
    CHECK(c.compared == static_cast<int64_t>(original.size()));
    CHECK(c.differing == 0);
    CHECK(c.max_abs_difference == 0.0);
  }
  REQUIRE(reference.size() == original.size());
  for (size_t i = 0; i < original.size(); ++i) {
    for (const char* m : {"l1", "psnr", "residual"}) {
      CHECK(out.records[i].metrics.at(m) == original[i].metrics.at(m));   // stored column kept
      CHECK(out.recomputed[i].metrics.at(m) == original[i].metrics.at(m));  // and recomputed equal
    }
    CHECK(out.records[i].metrics.at("ssim") == reference[i].metrics.at("ssim"));
    CHECK(out.records[i].metrics.at("pix") >= 0.0);
  }
  // records.csv holds the new columns after the run's own; summary.json the metrics and the set distances.
  const std::string header = read_file(run / "records.csv").substr(0, read_file(run / "records.csv").find('\n'));
  CHECK(header == "cell,operator,solver,design,group_size,item,group,member,l1,psnr,residual,ssim,pix,nfe,seconds,status,run_id");
  const auto stored = RunFolder::open(run.string()).read_records();
  CHECK(stored[5].metrics.at("pix") == out.records[5].metrics.at("pix"));
  const std::string summary = read_file(run / "summary.json");
  CHECK_THAT(summary, Catch::Contains("\"pix\": {") && Catch::Contains("\"ssim\": {") &&
                          Catch::Contains("\"set_metrics\"") && Catch::Contains("\"frechet_distance\""));
  CHECK_THAT(read_file(run / "rescore.ini"), Catch::Contains("metrics = ssim, pix") && Catch::Contains("[metric.pix]"));
  // One set-level distance per cell, its interval around its value.
  REQUIRE(out.set_metrics.size() == 2);
  for (const auto& s : out.set_metrics) {
    INFO(s.cell);
    CHECK(s.distance.items == 3);
    CHECK(s.distance.rows_a == 12);
    CHECK(s.distance.rows_b == 3);
    CHECK(s.distance.value.value > 0.0);
    CHECK(s.distance.value.low <= s.distance.value.value);
    CHECK(s.distance.value.value <= s.distance.value.high);
  }
  // A later summarize keeps them (rescore.ini and set_metrics/ are read back).
  const SummaryOutcome again = write_summary(RunFolder::open(run.string()));
  CHECK_THAT(read_file(run / "summary.json"), Catch::Contains("\"pix\": {") && Catch::Contains("\"set_metrics\""));
  (void)again;
}

TEST_CASE("rescore: refuses what the stored data cannot support", "[rescore]") {
  testing::TempDir tmp;
  const auto run = tmp.path / "run";
  testing::run_config_text(small_run(tmp.path, "l1", false), run);
  CHECK_THROWS_WITH(rescore_run(run.string(), quiet({"psnr"})),
                    Catch::Contains("stored no reconstructions") && Catch::Contains("save_reconstructions"));
  const auto run2 = tmp.path / "run2";
  testing::run_config_text(small_run(tmp.path, "l1"), run2);
  CHECK_THROWS_WITH(rescore_run(run2.string(), quiet({"nope"})), Catch::Contains("unknown metric 'nope'"));
  const std::string bad = script_module(tmp.path, "scalar.pt", "x.sum()");
  CHECK_THROWS_WITH(rescore_run(run2.string(), quiet({"bad_shape"}, "[metric.bad_shape]\ntype = torchscript_feature\npath = " + bad + "\n")),
                    Catch::Contains(bad) && Catch::Contains("Violated"));
  // Nothing was written by the refused rescores.
  CHECK_FALSE(fs::exists(run2 / "rescore.ini"));
  // The dataset is gone: named.
  fs::remove(tmp.path / "data.h5");
  CHECK_THROWS_WITH(rescore_run(run2.string(), quiet({"psnr"})), Catch::Contains("data.h5") && Catch::Contains("ground truth"));
}

TEST_CASE("feature metric: distance 0 for identical images, symmetric, spatial features; bad networks named",
          "[rescore][metrics]") {
  testing::TempDir tmp;
  const auto x = 0.5 * torch::tanh(keyed_normal({3, 1, 4, 4}, 11, torch::kDouble));
  const auto y = 0.5 * torch::tanh(keyed_normal({3, 1, 4, 4}, 12, torch::kDouble));
  for (const std::string body : {"x.flatten(1)", "torch.relu(x) - x * 0.5"}) {  // [B, D] and [B, C, H, W]
    INFO(body);
    const FeatureNetwork net(script_module(tmp.path, "n.pt", body));
    const auto fx = net.features(x), fy = net.features(y);
    CHECK(feature_distance(fx, fx).abs().max().item<double>() == 0.0);
    CHECK(torch::allclose(feature_distance(fx, fy), feature_distance(fy, fx), 0.0, 0.0));
    CHECK((feature_distance(fx, fy) > 0).all().item<bool>());
    CHECK((feature_distance(fx, fy) <= 4).all().item<bool>());
  }
  // [B, D]: 2 - 2 cos of the two feature vectors.
  const FeatureNetwork flat(script_module(tmp.path, "f.pt", "x.flatten(1)"));
  const auto a = x.flatten(1), b = y.flatten(1);
  const auto cos = (a * b).sum(1) / (a.norm(2, 1) * b.norm(2, 1));
  CHECK(torch::allclose(feature_distance(flat.features(x), flat.features(y)), 2 - 2 * cos, 1e-5, 1e-6));  // the network runs in float32
  // Registered as a metric: NaN for a non-finite sample, the others unchanged.
  const std::string path = script_module(tmp.path, "m.pt", "x.flatten(1)");
  register_feature_metric("test_feature_m", FeatureMetricOptions{path});
  auto bad = x.clone();
  bad[1][0][0][0] = NAN;
  const auto v = metric_registry().get("test_feature_m").compute(MetricInput{bad, y, {}, {}});
  CHECK(std::isnan(v[1].item<double>()));
  CHECK(v[0].item<double>() == Approx(feature_distance(flat.features(x), flat.features(y))[0].item<double>()));
  CHECK_THROWS_WITH(register_feature_metric("test_feature_m", FeatureMetricOptions{path + ".other"}),
                    Catch::Contains("already registered"));
  // Wrong output shape, non-finite output, missing file: Errors naming the file and the rule.
  const FeatureNetwork wrong(script_module(tmp.path, "w.pt", "x.flatten(1)[0:1]"));
  CHECK_THROWS_WITH(wrong.features(x), Catch::Contains("w.pt") && Catch::Contains("Violated"));
  const FeatureNetwork inf(script_module(tmp.path, "i.pt", "x.flatten(1) / 0.0"));
  CHECK_THROWS_WITH(inf.features(x), Catch::Contains("i.pt") && Catch::Contains("non-finite"));
  const FeatureNetwork missing((tmp.path / "none.pt").string());
  CHECK_THROWS_WITH(missing.features(x), Catch::Contains("none.pt") && Catch::Contains("no such file"));
}

TEST_CASE("feature metric: the shipped Fashion-MNIST feature network works offline", "[rescore][metrics]") {
  const FeatureNetwork net(std::string(IPBENCH_SOURCE_DIR) + "/models/fmnist-classifier/features.pt");
  const auto x = 0.8 * torch::tanh(keyed_normal({2, 1, 32, 32}, 5));
  const auto f = net.features(x);
  CHECK(f.sizes() == torch::IntArrayRef({2, 64}));
  CHECK(feature_distance(f, f).abs().max().item<double>() == 0.0);
  CHECK(feature_distance(f.slice(0, 0, 1), f.slice(0, 1, 2)).item<double>() > 0.0);
  register_builtin_metrics();
  CHECK(metric_registry().contains("fmnist_feature"));
}

TEST_CASE("frechet: a set against itself is 0; Gaussians through a linear feature net match the closed form",
          "[rescore][stats]") {
  testing::TempDir tmp;
  // Closed form for diagonal covariances: ||mu_a - mu_b||^2 + sum_d (sqrt(s_a,d) - sqrt(s_b,d))^2.
  const auto mu_a = torch::tensor({0.1, -0.2, 0.0, 0.3}, torch::kDouble), mu_b = torch::tensor({-0.1, 0.1, 0.05, 0.3}, torch::kDouble);
  const auto sd_a = torch::tensor({0.05, 0.1, 0.08, 0.12}, torch::kDouble), sd_b = torch::tensor({0.1, 0.06, 0.08, 0.04}, torch::kDouble);
  CHECK(frechet_distance_gaussians(mu_a, torch::diag(sd_a * sd_a), mu_b, torch::diag(sd_b * sd_b)) ==
        Approx(((mu_a - mu_b).pow(2).sum() + (sd_a - sd_b).pow(2).sum()).item<double>()).epsilon(1e-10));
  // A non-diagonal pair: S_b = R S_a R^T (a rotation) shares the eigenvalues, so the trace term is
  // tr(S_a) + tr(S_b) - 2 tr((S_a^1/2 S_b S_a^1/2)^1/2); with S_a = I it is 2 tr(S_b) - 2 tr(S_b^1/2).
  const auto rot = torch::tensor({{0.6, -0.8}, {0.8, 0.6}}, torch::kDouble);
  const auto sb = rot.matmul(torch::diag(torch::tensor({4.0, 0.25}, torch::kDouble))).matmul(rot.t());
  CHECK(frechet_distance_gaussians(torch::zeros({2}, torch::kDouble), torch::eye(2, torch::kDouble),
                                   torch::zeros({2}, torch::kDouble), sb) ==
        Approx(2.0 + (4.0 + 0.25) - 2.0 * (2.0 + 0.5)).epsilon(1e-10));

  // Samples of N(mu, diag(sd^2)) as [N, 1, 2, 2] images, features phi(x) = 2 x + 1 (scripted): the
  // feature-space distance is 4 times the pixel-space closed form.
  const FeatureNetwork net(script_module(tmp.path, "lin.pt", "2.0 * x.flatten(1) + 1.0"));
  const int64_t items = 8, per_item = 1000;
  std::vector<torch::Tensor> a, b;
  for (int64_t i = 0; i < items; ++i) {
    const auto za = keyed_normal({per_item, 4}, derive_key(1, i), torch::kDouble);
    const auto zb = keyed_normal({per_item, 4}, derive_key(2, i), torch::kDouble);
    a.push_back(net.features((mu_a + sd_a * za).view({per_item, 1, 2, 2})));
    b.push_back(net.features((mu_b + sd_b * zb).view({per_item, 1, 2, 2})));
  }
  const double truth = 4.0 * ((mu_a - mu_b).pow(2).sum() + (sd_a - sd_b).pow(2).sum()).item<double>();
  const SetDistance d = frechet_distance_over_items(a, b, 0.95, 123, 300);
  CHECK(d.items == items);
  CHECK(d.rows_a == items * per_item);
  CHECK(d.value.value == Approx(truth).epsilon(0.05));
  CHECK(d.value.value == Approx(frechet_distance(torch::cat(a), torch::cat(b))).epsilon(1e-9));
  CHECK(d.value.low <= d.value.value);
  CHECK(d.value.value <= d.value.high);
  CHECK(d.value.low < truth);
  CHECK(truth < d.value.high);
  // The same key gives the same interval (keyed resamples).
  const SetDistance again = frechet_distance_over_items(a, b, 0.95, 123, 300);
  CHECK(again.value.low == d.value.low);
  CHECK(again.value.high == d.value.high);
  // A set against itself: 0 up to rounding.
  const SetDistance self = frechet_distance_over_items(a, a, 0.95, 7, 100);
  CHECK(std::abs(self.value.value) < 1e-9);
}
