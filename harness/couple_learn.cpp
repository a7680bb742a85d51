#include "harness/couple_learn.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "harness/prior_factory.h"
#include "harness/records.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "metrics/gallery.h"
#include "metrics/image_metrics.h"
#include "noise/designs.h"
#include "noise/equicorrelated.h"

namespace ipbench {

void CoupleLearnOptions::validate() const {
  check_option(K >= 2, "CoupleLearnOptions", "K", K, "K >= 2");
  check_option(objective == "l2" || objective == "ssim" || objective == "brightness_split", "CoupleLearnOptions",
               "objective", objective, "one of l2 | ssim | brightness_split");
  check_option(objective != "brightness_split" || K == 4, "CoupleLearnOptions", "K", K,
               "objective = brightness_split splits a gallery of K = 4 into two pairs");
  check_option(lambda >= 0, "CoupleLearnOptions", "lambda", lambda, "lambda >= 0");
  check_option(steps >= 1, "CoupleLearnOptions", "steps", steps, "steps >= 1");
  check_option(groups >= 1, "CoupleLearnOptions", "groups", groups, "groups >= 1");
  check_option(lr > 0, "CoupleLearnOptions", "lr", lr, "lr > 0");
  check_option(init == "identity" || init == "random", "CoupleLearnOptions", "init", init, "identity or random");
}

namespace {

/// z = A u on every draw, with the current A; remembers draw 0's base normals for the gradient.
class LearnDesign : public NoiseDesign {
 public:
  explicit LearnDesign(torch::Tensor A) : A_(std::move(A)) {}
  std::string name() const override { return "coupling"; }
  int64_t group_size() const override { return A_.size(0); }
  torch::Tensor draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                     at::IntArrayRef sample_shape, torch::ScalarType dtype) const override {
    const auto u =
        group_base_normals(stream_key, first_group, num_groups, draw, A_.size(1), sample_shape, torch::kDouble);
    if (draw == 0) first_base_ = u;
    return couple_members(A_, u).to(dtype).flatten(0, 1);
  }
  std::string describe() const override { return "coupling being learned"; }
  const torch::Tensor& first_base() const { return first_base_; }

 private:
  torch::Tensor A_;
  mutable torch::Tensor first_base_;
};

torch::Tensor row_normalized(const torch::Tensor& B) { return B / B.norm(2, 1, true); }

}  // namespace

torch::Tensor gallery_objective(const torch::Tensor& u, const CoupleLearnOptions& o) {
  if (o.objective == "l2") return gallery_pairwise_l2(u);
  if (o.objective == "ssim") return gallery_pairwise_ssim_distance(u);
  const auto b = u.flatten(2).mean(2);  // [G, 4]
  const auto b1 = b.select(1, 0), b2 = b.select(1, 1), b3 = b.select(1, 2), b4 = b.select(1, 3);
  return ((b1 + b2) / 2 - (b3 + b4) / 2).abs() + o.lambda * ((b1 - b2).abs() + (b3 - b4).abs()) / 2;
}

CoupleLearnResult learn_coupling(const GallerySampler& sampler, const CoupleLearnOptions& o, uint64_t seed,
                                 const std::function<void(int64_t, double)>& on_step, torch::Device device,
                                 torch::ScalarType dtype) {
  o.validate();
  const uint64_t root = derive_key(seed, hash_string("couple-learn"));
  torch::Tensor B;
  if (o.init == "identity") {
    B = torch::eye(o.K, torch::kDouble);
  } else {
    B = torch::empty({o.K, o.K}, torch::kDouble);
    fill_normal(B.data_ptr<double>(), B.numel(), derive_key(root, hash_string("init")));
  }
  B.requires_grad_(true);
  torch::optim::Adam adam({B}, torch::optim::AdamOptions(o.lr));
  CoupleLearnResult result;
  for (int64_t t = 0; t < o.steps; ++t) {
    torch::Tensor A;
    {
      torch::NoGradGuard no_grad;
      A = row_normalized(B);
    }
    auto design = std::make_shared<LearnDesign>(A);
    NoiseStream noise(design, derive_key(root, static_cast<uint64_t>(t)), 0, o.groups, device, dtype);
    const torch::Tensor x_out = sampler(noise, t);
    require(x_out.dim() == 4 && x_out.size(0) == o.groups * o.K, "couple learn: the sampler returned ",
            x_out.sizes(), ", expected [", o.groups * o.K, ", C, H, W]");
    require(design->first_base().defined(), "couple learn: the sampler drew no noise");
    // dR/dx on the unit-range images (finite samples only).
    auto x = x_out.detach().to(torch::kCPU, torch::kDouble);
    x = torch::where(torch::isfinite(x), x, torch::zeros_like(x)).requires_grad_(true);
    const auto u = to_unit_range(x).view({o.groups, o.K, x.size(1), x.size(2), x.size(3)});
    const auto objective = gallery_objective(u, o).mean();
    const auto grad_x = torch::autograd::grad({objective}, {x})[0].view({o.groups, o.K, -1});
    result.objective.push_back(objective.item<double>());
    if (on_step) on_step(t, result.objective.back());
    // Skip gradient: the surrogate <z_0(A), dR/dx> has dR/dz_0 = dR/dx (paper App. B.1.5).
    const auto u0 = design->first_base();
    const auto z0 = torch::matmul(row_normalized(B), u0.view({o.groups, o.K, -1}));  // differentiable in B
    require(z0.sizes() == grad_x.sizes(), "couple learn: the initial noise ", u0.sizes(),
            " does not have the shape of the output; the skip gradient needs x and z_0 of the same shape");
    const auto surrogate = -(z0 * grad_x).sum() / static_cast<double>(o.groups);
    // Cosine learning-rate decay: large steps first, then settle (the estimator is noisy).
    static_cast<torch::optim::AdamOptions&>(adam.param_groups()[0].options())
        .lr(o.lr * 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(t) / static_cast<double>(o.steps))));
    adam.zero_grad();
    surrogate.backward();
    adam.step();
  }
  torch::NoGradGuard no_grad;
  result.A = row_normalized(B).detach().clone();
  result.correlation = torch::matmul(result.A, result.A.t());
  const auto C = result.correlation;
  result.mean_offdiagonal = ((C.sum() - C.diagonal().sum()) / static_cast<double>(o.K * (o.K - 1))).item<double>();
  return result;
}

CoupleLearnResult learn_coupling_from_config(const Config& config, const std::function<void(int64_t, double)>& on_step) {
  const Spec spec = parse_spec(config, /*notes=*/false);
  const auto o = read_options<CoupleLearnOptions>(config.section("couple"));
  const auto& bench = spec.benchmark;
  const torch::Device device = resolve_device(bench.device);
  const auto dtype = bench.dtype == "float64" ? torch::kDouble : torch::kFloat;
  Dataset data = load_dataset_source(spec.dataset.source, spec.dataset.pad_to, spec.dataset.first, bench.items);
  require(data.images.size(0) == bench.items, "config [benchmark] items = ", bench.items, ": dataset '",
          spec.dataset.source, "' has only ", data.images.size(0), " images");
  const auto images = data.images.to(device, dtype);
  const std::vector<int64_t> shape{images.size(1), images.size(2), images.size(3)};
  auto prior = build_prior(spec.prior_type, *spec.prior_section, device, dtype, shape, spec.dataset.pad_to);
  config.check_all_used();
  const auto& op = spec.operators.front();
  const Solver& solver = *spec.solvers.front().per_operator.front();
  require(!solver.consistency_source(), "couple learn: solver '", spec.solvers.front().label,
          "' needs a consistency model; use a diffusion solver (ddim, ddpm, dps, ...)");
  std::vector<ItemProblem> problems;
  for (int64_t i = 0; i < bench.items; ++i)
    problems.push_back(make_item_problem(op, images.slice(0, i, i + 1), spec.dataset.first + i,
                                         static_cast<uint64_t>(bench.seed)));
  GallerySampler sampler = [&](NoiseStream& noise, int64_t step) {
    const auto& p = problems[static_cast<size_t>(step % bench.items)];
    return solver.solve(Problem{*prior, *p.op, p.y, nullptr}, noise).x;
  };
  return learn_coupling(sampler, o, static_cast<uint64_t>(bench.seed), on_step, device, dtype);
}

void write_coupling_file(const std::string& path, const torch::Tensor& A, const std::string& header) {
  std::ostringstream os;
  std::istringstream lines(header);
  for (std::string line; std::getline(lines, line);) os << "# " << line << "\n";
  const auto C = torch::matmul(A, A.t());
  os << "# A A^T (pairwise correlation of the members):\n";
  for (int64_t i = 0; i < C.size(0); ++i) {
    os << "#  ";
    for (int64_t j = 0; j < C.size(1); ++j) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " %8.4f", C[i][j].item<double>());
      os << buf;
    }
    os << "\n";
  }
  for (int64_t i = 0; i < A.size(0); ++i) {
    for (int64_t j = 0; j < A.size(1); ++j) os << (j ? " " : "") << option_value(A[i][j].item<double>());
    os << "\n";
  }
  write_text_atomic(path, os.str());
}

}  // namespace ipbench
