#include "noise/designs.h"

#include "core/options.h"
#include "core/rng.h"
#include "noise/coupled.h"
#include "noise/device.h"
#include "noise/rqmc.h"

namespace ipbench {

torch::Tensor group_base_normals(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                 int64_t per_group, at::IntArrayRef sample_shape, torch::ScalarType dtype) {
  TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kDouble, "noise dtype must be float or double");
  std::vector<int64_t> shape{num_groups, per_group};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  auto out = torch::empty(shape, torch::TensorOptions().dtype(dtype).device(noise_device()));
  fill_group_normals(out, stream_key, first_group, draw);
  return out;
}

torch::Tensor group_base_uniforms(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                  int64_t per_group, at::IntArrayRef sample_shape) {
  std::vector<int64_t> shape{num_groups, per_group};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  auto out = torch::empty(shape, torch::TensorOptions().dtype(torch::kDouble));
  const int64_t n = out.numel() / std::max<int64_t>(num_groups, 1);
  at::parallel_for(0, num_groups, 1, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      const uint64_t key = derive_key(stream_key, static_cast<uint64_t>(first_group + g), static_cast<uint64_t>(draw));
      fill_uniform(out.data_ptr<double>() + g * n, n, key);
    }
  });
  return out;
}

torch::Tensor uniform_grid(const torch::Tensor& u, torch::ScalarType dtype) {
  TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kDouble, "noise dtype must be float or double");
  const double half_cells = dtype == torch::kFloat ? 0x1.0p23 : 0x1.0p52;  // 2^(b-1) grid points
  auto k = torch::floor(u.to(torch::kDouble) * half_cells).clamp_(0.0, half_cells - 1.0);
  return ((k + 0.5) / half_cells).to(dtype);  // (2k + 1) 2^-b: exact in dtype, and so is 1 - u
}

torch::Tensor NoiseDesign::draw_uniform(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                        at::IntArrayRef sample_shape, torch::ScalarType dtype) const {
  // Marginal-preserving rule: Phi is the N(0,1) CDF, so each member's Phi(z) is U(0, 1) whatever the coupling.
  const auto z = this->draw(stream_key, first_group, num_groups, draw, sample_shape, torch::kDouble);
  return uniform_grid(0.5 * torch::erfc(-z / std::sqrt(2.0)), dtype);
}

torch::Tensor IidDesign::draw_uniform(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                      at::IntArrayRef sample_shape, torch::ScalarType dtype) const {
  return uniform_grid(group_base_uniforms(stream_key, first_group, num_groups, draw, 1, sample_shape), dtype)
      .flatten(0, 1);
}

torch::Tensor AntitheticDesign::draw_uniform(uint64_t stream_key, int64_t first_group, int64_t num_groups,
                                             int64_t draw, at::IntArrayRef sample_shape,
                                             torch::ScalarType dtype) const {
  // u on the dtype's midpoint grid, so 1 - u is exact and u + (1 - u) == 1 in dtype.
  const auto u = uniform_grid(group_base_uniforms(stream_key, first_group, num_groups, draw, 1, sample_shape), dtype)
                     .to(torch::kDouble);
  return torch::cat({u, 1.0 - u}, 1).flatten(0, 1).to(dtype);
}

torch::Tensor IidDesign::draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                              at::IntArrayRef sample_shape, torch::ScalarType dtype) const {
  auto u = group_base_normals(stream_key, first_group, num_groups, draw, 1, sample_shape, dtype);
  return u.flatten(0, 1);
}

torch::Tensor AntitheticDesign::draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                     at::IntArrayRef sample_shape, torch::ScalarType dtype) const {
  auto u = group_base_normals(stream_key, first_group, num_groups, draw, 1, sample_shape, dtype);
  return torch::cat({u, -u}, 1).flatten(0, 1);  // [G, 2, ...] -> members (u, -u) contiguous
}

Registry<DesignEntry>& design_registry() {
  static Registry<DesignEntry> registry("noise design");
  return registry;
}

void register_builtin_designs() {
  auto& r = design_registry();
  if (r.contains("iid")) return;
  r.add("iid", {{"iid", "independent N(0,I) draws: plain Monte Carlo, groups of K = 1", describe_options<IidOptions>()},
                [](const Section& s) -> std::shared_ptr<NoiseDesign> {
                  read_options<IidOptions>(s);
                  return std::make_shared<IidDesign>();
                }});
  r.add("antithetic",
        {{"antithetic", "antithetic pairs (z, -z) coupling every draw of a trajectory, K = 2",
          describe_options<AntitheticOptions>()},
         [](const Section& s) -> std::shared_ptr<NoiseDesign> {
           read_options<AntitheticOptions>(s);
           return std::make_shared<AntitheticDesign>();
         }});
  r.add("repulsive",
        {{"repulsive", "K-coupled groups z_i = sqrt(K/(K-1)) (u_i - ubar), pairwise correlation -1/(K-1), every draw",
          describe_options<RepulsiveOptions>()},
         [](const Section& s) -> std::shared_ptr<NoiseDesign> {
           return std::make_shared<RepulsiveDesign>(read_options<RepulsiveOptions>(s));
         }});
  r.add("coupling",
        {{"coupling", "general Gaussian coupling z = A u (unit-norm rows; couple-to-control Thm 3.3), every draw",
          describe_options<CouplingOptions>()},
         [](const Section& s) -> std::shared_ptr<NoiseDesign> {
           return CouplingDesign::from_options(read_options<CouplingOptions>(s));
         }});
  r.add("rqmc",
        {{"rqmc", "randomized QMC: Owen-scrambled Sobol' nets (group = replicate) on low-frequency DCT coordinates",
          describe_options<RqmcOptions>()},
         [](const Section& s) -> std::shared_ptr<NoiseDesign> {
           return std::make_shared<RqmcDesign>(read_options<RqmcOptions>(s));
         }});
}

}  // namespace ipbench
