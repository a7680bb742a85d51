// Tests for the couple-to-control designs (equicorrelated, subspace, coupling files), the gallery
// metrics and learned couplings.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "core/config.h"
#include "harness/couple_learn.h"
#include "harness/spec.h"
#include "metrics/gallery.h"
#include "stats/gallery.h"
#include "core/error.h"
#include "noise/coupled.h"
#include "noise/designs.h"
#include "noise/equicorrelated.h"
#include "noise/noise_stream.h"
#include "noise/rqmc.h"
#include "noise/subspace.h"
#include "temp_dir.h"

using namespace ipbench;

namespace {

std::shared_ptr<const NoiseDesign> make(const std::string& type, const std::string& options = "") {
  register_builtin_designs();
  auto cfg = Config::from_string("[noise.x]\ntype = " + type + "\n" + options, "test");
  return design_registry().get(type).make(cfg.section("noise.x"));
}

/// Draw 0 of G groups as [G, K, shape...] (float64).
torch::Tensor group_draws(const std::shared_ptr<const NoiseDesign>& d, int64_t G, std::vector<int64_t> shape,
                          uint64_t key = 99) {
  NoiseStream s(d, key, 0, G, torch::kCPU, torch::kDouble);
  auto z = s.gaussian(shape);
  std::vector<int64_t> out{G, d->group_size()};
  out.insert(out.end(), shape.begin(), shape.end());
  return z.view(out);
}

/// Per-coordinate correlation of members a and b over groups, averaged over the coordinates where
/// `where` ([D] bool) holds: z [G, K, D].
double cross_corr(const torch::Tensor& z, int64_t a, int64_t b, const torch::Tensor& where) {
  const auto prod = (z.select(1, a) * z.select(1, b)).mean(0);  // [D]
  return prod.masked_select(where).mean().item<double>();
}

}  // namespace

TEST_CASE("couplings: equicorrelated members are N(0, I) with pairwise correlation c", "[couplings][designs]") {
  const int64_t G = 6000, D = 16;
  for (double c : {-0.5, -0.25, 0.0, 0.6, 1.0}) {
    CAPTURE(c);
    auto d = make("equicorrelated", "K = 3\nc = " + std::to_string(c));
    REQUIRE(d->group_size() == 3);
    const auto z = group_draws(d, G, {D}).flatten(2);
    const double n = static_cast<double>(G * D);
    for (int64_t k = 0; k < 3; ++k) {
      CHECK(std::abs(z.select(1, k).mean().item<double>()) < 5 / std::sqrt(n));
      CHECK(std::abs(z.select(1, k).pow(2).mean().item<double>() - 1) < 5 * std::sqrt(2 / n));
    }
    const auto all = torch::ones({D}, torch::kBool);
    for (auto [a, b] : {std::pair<int64_t, int64_t>{0, 1}, {0, 2}, {1, 2}})
      CHECK(std::abs(cross_corr(z, a, b, all) - c) < 5 * std::sqrt(2 / n));
    const auto A = equicorrelation_matrix(3, c);
    const auto target = (1 - c) * torch::eye(3, torch::kDouble) + c * torch::ones({3, 3}, torch::kDouble);
    CHECK(torch::allclose(torch::matmul(A, A.t()), target, 0, 1e-12));
  }
  // The endpoints are the existing designs on the same base draws.
  const auto rep = group_draws(make("repulsive", "K = 4"), 50, {5});
  CHECK(torch::allclose(group_draws(make("equicorrelated", "K = 4\nc = -0.3333333333333333"), 50, {5}), rep, 0, 1e-12));
  const auto same = group_draws(make("equicorrelated", "K = 4\nc = 1"), 50, {5});
  CHECK(torch::allclose(same.select(1, 0), same.select(1, 3), 0, 1e-12));
}

TEST_CASE("couplings: equicorrelation strength outside [-1/(K-1), 1] is refused naming the bound",
          "[couplings][errors]") {
  CHECK_THROWS_WITH(make("equicorrelated", "K = 3\nc = -0.6"), Catch::Contains("-1/(K-1) = -0.5 <= c <= 1"));
  CHECK_THROWS_WITH(make("equicorrelated", "K = 5\nc = 1.2"), Catch::Contains("-1/(K-1) = -0.25 <= c <= 1"));
  CHECK_THROWS_WITH(make("equicorrelated", "K = 1\nc = 0"), Catch::Contains("K >= 2"));
  CHECK_THROWS_WITH(make("subspace", "inside = equicorrelated\ninside_c = -0.5"),
                    Catch::Contains("-1/(K-1) = -0.333333 <= c <= 1"));
  CHECK_THROWS_WITH(make("subspace", "outside = mixed"), Catch::Contains("identical | repulsive | iid"));
}

TEST_CASE("couplings: subspace members are N(0, I), correlated c_in on V and c_out off V", "[couplings][designs]") {
  const int64_t G = 4000;
  const std::vector<int64_t> shape{2, 8, 8};
  SECTION("box: identical inside, repulsive outside") {
    auto d = make("subspace", "K = 3\nsubspace = box\nbox = 2, 1, 4, 5\ninside = identical\noutside = repulsive");
    const auto region = d->pixel_region(shape);
    REQUIRE(region.defined());
    CHECK(region.sum().item<double>() == 20);
    const auto on = region.expand({2, 8, 8}).flatten().to(torch::kBool);
    const auto z = group_draws(d, G, shape).flatten(2);
    const double n = static_cast<double>(G);
    // Marginals: every coordinate has mean 0 and variance 1 (pooled over coordinates).
    CHECK(std::abs(z.mean().item<double>()) < 5 / std::sqrt(n * 3 * 128));
    CHECK(std::abs(z.pow(2).mean(0).mean().item<double>() - 1) < 5 * std::sqrt(2 / (n * 3 * 128)));
    CHECK((z.pow(2).mean(0) - 1).abs().max().item<double>() < 6 * std::sqrt(2 / n));
    CHECK(std::abs(cross_corr(z, 0, 2, on.logical_not()) + 0.5) < 5 * std::sqrt(2 / (n * 108)));
    // On V the members are identical (up to rounding of z_out + (z_in - z_out)).
    CHECK(torch::allclose(z.select(1, 0).masked_select(on), z.select(1, 1).masked_select(on), 0, 1e-12));
    CHECK(torch::allclose(z.select(1, 0).masked_select(on), z.select(1, 2).masked_select(on), 0, 1e-12));
    CHECK_FALSE(torch::allclose(z.select(1, 0).masked_select(on.logical_not()),
                                z.select(1, 1).masked_select(on.logical_not()), 0, 0.1));
  }
  SECTION("channel: repulsive on channel 1, iid on channel 0") {
    auto d = make("subspace", "K = 2\nsubspace = channel\nchannels = 1\ninside = repulsive");
    const auto z = group_draws(d, G, shape);
    CHECK(torch::allclose(z.select(1, 0).select(1, 1), -z.select(1, 1).select(1, 1), 0, 1e-12));
    const auto c0 = (z.select(1, 0).select(1, 0) * z.select(1, 1).select(1, 0)).mean().item<double>();
    CHECK(std::abs(c0) < 5 / std::sqrt(G * 64.0));
    CHECK(std::abs(z.pow(2).mean().item<double>() - 1) < 5 * std::sqrt(2 / (G * 256.0)));
  }
  SECTION("dct: identical on the 16 lowest frequencies, iid above") {
    auto d = std::dynamic_pointer_cast<const SubspaceDesign>(
        make("subspace", "K = 3\nsubspace = dct\nfrequencies = 16\ninside = identical\noutside = iid"));
    REQUIRE(d);
    CHECK_FALSE(d->pixel_region(shape).defined());
    const auto z = group_draws(d, G, shape);
    // On V the members agree exactly; off V they are independent.
    const auto low = d->project(z);
    CHECK(torch::allclose(low.select(1, 0), low.select(1, 2), 0, 1e-10));
    // Coefficients: variance 1 each (orthonormal DCT of N(0, I)), cross-member covariance 1 on V, 0 off V.
    const auto dh = dct_matrix(8);
    const auto coef = torch::matmul(torch::matmul(dh, z), dh.t()).flatten(2);  // [G, K, 128]
    CHECK((coef.pow(2).mean(0) - 1).abs().max().item<double>() < 6 * std::sqrt(2.0 / G));
    auto on = torch::zeros({2, 8, 8}, torch::kBool);
    const auto zz = zigzag_order(8, 8);
    for (int j = 0; j < 16; ++j) on.select(1, zz[j].first).select(1, zz[j].second).fill_(true);
    on = on.flatten();
    CHECK(torch::allclose(coef.select(1, 0).index_select(1, on.nonzero().flatten()),
                          coef.select(1, 1).index_select(1, on.nonzero().flatten()), 0, 1e-10));
    CHECK(std::abs(cross_corr(coef, 0, 1, on.logical_not())) < 5 / std::sqrt(G * 96.0));
    // Pixels stay N(0, 1).
    CHECK((z.pow(2).mean(0) - 1).abs().max().item<double>() < 6 * std::sqrt(2.0 / G));
  }
}

TEST_CASE("couplings: subspace = operator binds the operator's mask; wrong shapes are refused", "[couplings][errors]") {
  auto d = make("subspace", "K = 2\nsubspace = operator\ninside = identical\noutside = repulsive");
  CHECK(d->uses_operator_mask());
  CHECK_THROWS_WITH(d->pixel_region({1, 4, 4}), Catch::Contains("before it was bound"));
  CHECK_THROWS_WITH(d->bind_operator_mask(torch::Tensor()), Catch::Contains("needs an operator with a mask"));
  auto mask = torch::zeros({1, 1, 4, 4}, torch::kDouble);
  mask.select(2, 0).fill_(1.0);  // first row observed
  auto bound = d->bind_operator_mask(mask);
  CHECK_FALSE(bound->uses_operator_mask());
  const auto z = group_draws(bound, 3, {1, 4, 4});
  CHECK(torch::allclose(z.select(1, 0).select(2, 0), z.select(1, 1).select(2, 0), 0, 1e-12));  // observed: identical
  CHECK(torch::allclose(z.select(1, 0).select(2, 2), -z.select(1, 1).select(2, 2), 0, 1e-12));  // missing: antithetic
  CHECK_THROWS_WITH(bound->pixel_region({1, 8, 8}), Catch::Contains("Violated: the mask is [1 or C, H, W]"));
  auto inverted = make("subspace", "K = 2\nsubspace = operator\ninvert = true")->bind_operator_mask(mask);
  CHECK(inverted->pixel_region({1, 4, 4}).sum().item<double>() == 12);
  auto box = make("subspace", "K = 2\nbox = 4, 4, 8, 8");
  CHECK_THROWS_WITH(box->pixel_region({1, 8, 8}), Catch::Contains("does not fit the 8 x 8 image"));
  CHECK_THROWS_WITH(make("subspace", "box = 1, 2, 3"), Catch::Contains("top, left, height, width"));
  CHECK_THROWS_WITH(make("subspace", "subspace = wavelet"), Catch::Contains("box | operator | dct | channel"));
}

TEST_CASE("couplings: a coupling file that is not marginal-preserving is refused naming the worst row",
          "[couplings][errors]") {
  testing::TempDir tmp;
  const auto path = (tmp.path / "A.txt").string();
  std::ofstream(path) << "1 0\n0.6 0.8\n0.9 0.9\n0.5 0.5\n";
  const auto message = [&] {
    try {
      make("coupling", "matrix_file = " + path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  CHECK_THAT(message, Catch::Contains("row 3 has norm 1.27") && Catch::Contains("the worst of 4 rows") &&
                          Catch::Contains(path));
  std::ofstream(path) << "0.6 0.8\n0.6 -0.8\n";
  CHECK(make("coupling", "matrix_file = " + path)->group_size() == 2);
}

namespace {

torch::Tensor gallery(const std::string& name, const torch::Tensor& x, int64_t K, const torch::Tensor& region = {}) {
  register_gallery_metrics();
  return metric_registry().get(name).gallery(GalleryInput{x, K, region});
}

}  // namespace

TEST_CASE("couplings: gallery metrics of known galleries", "[couplings][gallery]") {
  // Group 0: a black and a white image; group 1: two identical images; group 2: a failed member.
  auto x = torch::zeros({6, 1, 12, 12}, torch::kDouble);
  x[0].fill_(-1.0);
  x[0][0].slice(0, 0, 6).fill_(1.0);  // top half white
  x[1].fill_(-1.0);
  x[1][0].slice(0, 6, 12).fill_(1.0);  // bottom half white: every pixel differs by 1, pixel vectors orthogonal
  x[2].uniform_(-1, 1);
  x[3].copy_(x[2]);
  x[5][0][3][3] = std::nan("");
  const auto l2 = gallery("gallery_l2", x, 2);
  CHECK(l2[0].item<double>() == Approx(1.0));
  CHECK(l2[1].item<double>() == 0.0);
  CHECK(std::isnan(l2[2].item<double>()));
  const auto ssim = gallery("gallery_ssim_dist", x, 2);
  CHECK(ssim[0].item<double>() > 0.5);
  CHECK(std::abs(ssim[1].item<double>()) < 1e-12);
  const auto vendi = gallery("gallery_vendi", x, 2);
  CHECK(vendi[0].item<double>() == Approx(2.0));  // orthogonal pixel vectors: two distinct images
  CHECK(vendi[1].item<double>() == Approx(1.0));  // identical: one
  // K = 3: three mutually orthogonal images have Vendi 3, their pairwise L2 is 1/3 of a pixel each.
  auto y = torch::full({3, 1, 3, 3}, -1.0, torch::kDouble);
  for (int k = 0; k < 3; ++k) y[k][0][k].fill_(1.0);
  CHECK(gallery("gallery_vendi", y, 3)[0].item<double>() == Approx(3.0));
  CHECK(gallery("gallery_l2", y, 3)[0].item<double>() == Approx(2.0 / 3.0));
  // Region split: identical inside the first 4 rows, different below.
  auto z = torch::zeros({2, 1, 8, 8}, torch::kDouble);
  z[1].slice(1, 4, 8).fill_(1.0);
  auto region = torch::zeros({1, 8, 8}, torch::kDouble);
  region.slice(1, 0, 4).fill_(1.0);
  CHECK(gallery("gallery_fg_rmse", z, 2, region)[0].item<double>() == 0.0);
  CHECK(gallery("gallery_bg_l2", z, 2, region)[0].item<double>() == Approx(0.25));  // (0.5)^2 on [0, 1]
  CHECK(gallery("gallery_fg_rmse", z, 2, 1.0 - region)[0].item<double>() == Approx(0.25));
  CHECK_THROWS_WITH(gallery("gallery_bg_l2", z, 2), Catch::Contains("type = subspace"));
  CHECK_THROWS_WITH(gallery("gallery_l2", z, 1), Catch::Contains("K >= 2"));
}

TEST_CASE("couplings: a gallery metric on a design with K = 1 is refused", "[couplings][errors]") {
  const auto config = Config::from_string(
      "[benchmark]\noperators = inpaint\nsolvers = ddim\ndesigns = iid, rep\nmetrics = psnr, gallery_l2\n"
      "samples_per_item = 4\n[dataset]\nsource = fashion-mnist:test\n[prior]\ntype = gaussian\n"
      "[operator.inpaint]\n[solver.ddim]\n[noise.iid]\n[noise.rep]\ntype = repulsive\nK = 2\n",
      "test");
  CHECK_THROWS_WITH(parse_spec(config, false),
                    Catch::Contains("gallery metric 'gallery_l2' needs coupled groups, but design 'iid' has K = 1"));
}

TEST_CASE("couplings: design comparisons pair designs of equal K only", "[couplings][gallery][stats]") {
  std::vector<Record> records;
  auto add = [&](const std::string& design, int64_t K, double offset) {
    for (int64_t item = 0; item < 4; ++item)
      for (int64_t g = 0; g < 5; ++g)
        for (int64_t m = 0; m < K; ++m) {
          Record r;
          r.op = "op";
          r.solver = "s";
          r.design = design;
          r.cell = "op/s/" + design;
          r.group_size = K;
          r.item = item;
          r.group = g;
          r.member = m;
          r.metrics["gallery_l2"] = offset + 0.1 * item + 0.01 * ((g * 7 + item * 3) % 5);  // per group
          records.push_back(r);
        }
  };
  add("iid2", 2, 1.0);
  add("rep2", 2, 1.5);
  add("rep3", 3, 2.0);
  SummaryOptions so;
  so.baseline_design = "iid2";
  so.lower_better["gallery_l2"] = false;
  const auto cmp = compare_designs(records, {"gallery_l2"}, so);
  REQUIRE(cmp.size() == 1);
  CHECK(cmp[0].design_a == "rep2");
  CHECK(cmp[0].design_b == "iid2");
  CHECK(cmp[0].K == 2);
  CHECK(cmp[0].paired.difference.mean == Approx(0.5));
  CHECK(cmp[0].relative() == Approx(0.5 / cmp[0].paired.mean_b));
  CHECK(cmp[0].verdict == Verdict::a_better);
  // The gallery value is the group mean: the cell interval is across groups and items.
  so.metrics = {"gallery_l2"};
  const auto summary = summarize(records, so);
  CHECK(summary.cells[0].metrics[0].groups_used == 20);
}

TEST_CASE("couplings: the learned coupling for pairwise L2 on a linear map approaches the repulsive one",
          "[couplings][learn]") {
  // Gaussian prior N(m, diag(s^2)) with its exact sampler x = m + s z: a linear map of the initial noise.
  auto scale = torch::linspace(0.15, 0.35, 16, torch::kDouble).view({1, 4, 4});
  auto mean = torch::linspace(-0.2, 0.2, 16, torch::kDouble).view({1, 4, 4});
  GallerySampler sampler = [&](NoiseStream& noise, int64_t) { return mean + scale * noise.gaussian({1, 4, 4}); };
  CoupleLearnOptions o;
  o.objective = "l2";
  o.groups = 64;
  o.steps = 300;
  o.lr = 0.05;
  SECTION("K = 3: the maximizer of mean pairwise L2 is unique, C = repulsive") {
    o.K = 3;
    const auto r = learn_coupling(sampler, o, 7);
    const auto C = r.correlation;
    INFO(C);
    const auto target = 1.5 * torch::eye(3, torch::kDouble) - 0.5;
    // Tolerance: 0.05 on every entry of A A^T (the paper's learned K = 4 matrix is within 0.008).
    CHECK((C - target).abs().max().item<double>() < 0.05);
    CHECK(r.objective.back() > r.objective.front());
    CHECK(torch::allclose(torch::diagonal(C), torch::ones({3}, torch::kDouble), 0, 1e-12));
  }
  SECTION("K = 4: mean pairwise correlation reaches -1/(K-1) (every maximizer has rows summing to 0)") {
    o.K = 4;
    const auto r = learn_coupling(sampler, o, 8);
    INFO(r.correlation);
    CHECK(std::abs(r.mean_offdiagonal + 1.0 / 3.0) < 0.03);
  }
}

TEST_CASE("couplings: a learned coupling file round-trips through matrix_file", "[couplings][learn]") {
  testing::TempDir tmp;
  const auto path = (tmp.path / "learned.txt").string();
  const auto A = equicorrelation_matrix(3, -0.5);
  write_coupling_file(path, A, "test header\nsecond line");
  auto d = std::dynamic_pointer_cast<const CouplingDesign>(make("coupling", "matrix_file = " + path));
  REQUIRE(d);
  CHECK(torch::allclose(d->matrix(), A, 0, 1e-15));
}
