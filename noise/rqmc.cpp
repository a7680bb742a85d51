#include "noise/rqmc.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "noise/designs.h"
#include "noise/sobol.h"

namespace ipbench {

void RqmcOptions::validate() const {
  require(m >= 1 && m <= 20, "RqmcOptions::m = ", m, ". Violated: 1 <= m <= 20 (n = 2^m points per replicate)");
  require(s >= 0, "RqmcOptions::s = ", s, ". Violated: s >= 0 (0 = automatic)");
  require(embedding == "dct" || embedding == "none", "RqmcOptions::embedding = '", embedding,
          "'. Violated: embedding is dct or none");
  require(qmc_draws >= 1, "RqmcOptions::qmc_draws = ", qmc_draws, ". Violated: qmc_draws >= 1");
  require(s * qmc_draws <= kSobolMaxDimension, "RqmcOptions: s * qmc_draws = ", s * qmc_draws,
          ". Violated: s * qmc_draws <= ", kSobolMaxDimension, " (Sobol' direction numbers available)");
}

RqmcDesign::RqmcDesign(RqmcOptions options) : options_(std::move(options)) { options_.validate(); }

namespace {

/// [C, H, W] view of a sample shape (see the header comment).
std::array<int64_t, 3> chw(at::IntArrayRef shape) {
  if (shape.empty()) return {1, 1, 1};
  if (shape.size() == 1) return {1, 1, shape[0]};
  if (shape.size() == 2) return {1, shape[0], shape[1]};
  int64_t c = 1;
  for (size_t i = 0; i + 2 < shape.size(); ++i) c *= shape[i];
  return {c, shape[shape.size() - 2], shape[shape.size() - 1]};
}

}  // namespace

torch::Tensor dct_matrix(int64_t N) {
  TORCH_CHECK(N >= 1, "dct_matrix: N = ", N);
  const auto k = torch::arange(N, torch::kDouble).view({N, 1});
  const auto n = torch::arange(N, torch::kDouble).view({1, N});
  auto c = torch::cos(M_PI * (2.0 * n + 1.0) * k / (2.0 * static_cast<double>(N))) * std::sqrt(2.0 / N);
  c[0] = c[0] / std::sqrt(2.0);
  return c;
}

std::vector<std::pair<int64_t, int64_t>> zigzag_order(int64_t H, int64_t W) {
  std::vector<std::pair<int64_t, int64_t>> order;
  order.reserve(static_cast<size_t>(H * W));
  for (int64_t diag = 0; diag <= H + W - 2; ++diag) {
    const int64_t lo = std::max<int64_t>(0, diag - (W - 1)), hi = std::min<int64_t>(diag, H - 1);
    if (diag % 2 == 0)
      for (int64_t r = hi; r >= lo; --r) order.emplace_back(r, diag - r);
    else
      for (int64_t r = lo; r <= hi; ++r) order.emplace_back(r, diag - r);
  }
  return order;
}

int64_t RqmcDesign::resolved_s(at::IntArrayRef sample_shape) const {
  const auto [C, H, W] = chw(sample_shape);
  const int64_t d = C * H * W;
  const int64_t s = options_.s > 0 ? options_.s : std::min<int64_t>(C * 64, d);
  require(s <= d, "noise design rqmc: s = ", s, " exceeds the noise dimension d = ", d, " of a draw of shape ",
          sample_shape, ". Violated: s <= d");
  require(s * options_.qmc_draws <= kSobolMaxDimension, "noise design rqmc: s * qmc_draws = ", s * options_.qmc_draws,
          " for a draw of shape ", sample_shape, ". Violated: s * qmc_draws <= ", kSobolMaxDimension,
          " (Sobol' direction numbers available); lower s or qmc_draws");
  return s;
}

torch::Tensor RqmcDesign::draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                               at::IntArrayRef sample_shape, torch::ScalarType dtype) const {
  const int64_t n = group_size();
  // Monte Carlo part: keyed iid per member (all coordinates; the QMC ones are overwritten below).
  auto a = group_base_normals(stream_key, first_group, num_groups, draw, n, sample_shape, torch::kDouble);
  if (draw >= options_.qmc_draws) return a.to(dtype).flatten(0, 1);

  const auto [C, H, W] = chw(sample_shape);
  const int64_t s = resolved_s(sample_shape);
  // Which flattened (channel, position) each QMC coordinate j drives.
  std::vector<int64_t> channel(s), position(s);
  if (options_.embedding == "dct") {
    const auto zz = zigzag_order(H, W);
    for (int64_t j = 0; j < s; ++j) {
      channel[j] = j % C;
      position[j] = zz[static_cast<size_t>(j / C)].first * W + zz[static_cast<size_t>(j / C)].second;
    }
  } else {
    for (int64_t j = 0; j < s; ++j) channel[j] = j / (H * W), position[j] = j % (H * W);
  }
  auto flat_index = torch::empty({s}, torch::kLong);
  for (int64_t j = 0; j < s; ++j) flat_index[j] = channel[j] * H * W + position[j];
  // The QMC coordinates of every replicate, [G, n, s], computed on the CPU (n * s values per replicate:
  // small) and copied into the base draw wherever it lives.
  std::vector<torch::Tensor> qmc;
  qmc.reserve(static_cast<size_t>(num_groups));
  for (int64_t g = 0; g < num_groups; ++g) {
    const uint64_t replicate_key = derive_key(stream_key, hash_string("rqmc"), static_cast<uint64_t>(first_group + g));
    auto u = rqmc_uniforms(n, draw * s, s, replicate_key);  // [n, s]
    auto* p = u.data_ptr<double>();
    at::parallel_for(0, u.numel(), 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = inverse_normal_cdf(p[i]);
    });
    qmc.push_back(u);
  }
  const auto device = a.device();
  a.view({num_groups, n, C * H * W}).index_copy_(2, flat_index.to(device), torch::stack(qmc).to(device));
  if (options_.embedding == "dct") {
    // eps = D_H^T A D_W per channel (the inverse of the orthonormal 2-D DCT-II).
    const auto dh = dct_matrix(H).to(device), dw = dct_matrix(W).to(device);
    a = torch::matmul(torch::matmul(dh.t(), a.view({num_groups, n, C, H, W})), dw);
  }
  std::vector<int64_t> shape{num_groups * n};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  return a.to(dtype).reshape(shape);
}

torch::Tensor RqmcDesign::draw_uniform(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                       at::IntArrayRef sample_shape, torch::ScalarType dtype) const {
  const int64_t n = group_size();
  auto u = group_base_uniforms(stream_key, first_group, num_groups, draw, n, sample_shape);
  if (draw < options_.qmc_draws) {
    const auto [C, H, W] = chw(sample_shape);
    const int64_t d = C * H * W;
    const int64_t s = options_.s > 0 ? options_.s : std::min<int64_t>(C * 64, d);
    require(s * options_.qmc_draws <= kSobolMaxDimension, "noise design rqmc: s * qmc_draws = ", s * options_.qmc_draws,
            ". Violated: s * qmc_draws <= ", kSobolMaxDimension, " (Sobol' direction numbers available)");
    const int64_t used = std::min(s, d);
    auto flat = u.view({num_groups, n, d});
    for (int64_t g = 0; g < num_groups; ++g) {
      const uint64_t replicate_key = derive_key(stream_key, hash_string("rqmc"), static_cast<uint64_t>(first_group + g));
      flat[g].narrow(1, 0, used).copy_(rqmc_uniforms(n, draw * s, used, replicate_key));
    }
  }
  std::vector<int64_t> shape{num_groups * n};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  return uniform_grid(u, dtype).reshape(shape);
}

std::string RqmcDesign::describe() const {
  return str_cat("rqmc: Owen-scrambled Sobol' (n = ", group_size(), " points per replicate = group), ",
                 options_.s > 0 ? str_cat("s = ", options_.s) : std::string("s = C*64"), " QMC coordinates (",
                 options_.embedding == "dct" ? "lowest DCT frequencies" : "first coordinates",
                 "), iid padding; QMC on the first ", options_.qmc_draws, " draw(s)");
}

}  // namespace ipbench
