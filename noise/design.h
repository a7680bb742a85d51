#pragma once
// Noise designs: how the K members of each coupled group draw their Gaussian noise.
//
// A design turns keyed iid normals into coupled draws. For group g of an item, draw index i, the
// base key is derive_key(stream key, g, i); member draws are a deterministic function of that key,
// so results never depend on how groups are batched. Every member is marginally exactly N(0, I).
//   iid:        K = 1, z = u
//   antithetic: K = 2, (z_0, z_1) = (u, -u) -- couples EVERY draw of a trajectory
//   repulsive, coupling: K-coupled groups, every draw (noise/coupled.h)
//   rqmc:       group = one randomization of a Sobol' net of K = 2^m points; QMC on the first draw(s),
//               keyed iid on later draws (noise/rqmc.h)
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/registry.h"

namespace ipbench {

class NoiseDesign {
 public:
  virtual ~NoiseDesign() = default;
  virtual std::string name() const = 0;
  /// K, the number of coupled members per group.
  virtual int64_t group_size() const = 0;
  /// Draws for groups [first_group, first_group + num_groups) at draw index `draw`:
  /// a CPU tensor [num_groups * K, sample_shape...] of dtype `dtype` (float or double),
  /// members of one group contiguous.
  virtual torch::Tensor draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                             at::IntArrayRef sample_shape, torch::ScalarType dtype) const = 0;
  /// Uniforms in the open interval (0, 1) at draw index `draw` (same layout as draw()), for resampling
  /// solvers. Every member is marginally exactly uniform on the grid of uniform_grid(); members are
  /// coupled by the design's uniform rule. Default (repulsive, coupling): u = Phi(z) of the design's
  /// coupled Gaussian draw z (float64), so the coupling carries over through a monotone map.
  /// iid: plain keyed uniforms; antithetic: (u, 1 - u) exactly; rqmc: the scrambled Sobol' coordinates.
  virtual torch::Tensor draw_uniform(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                     at::IntArrayRef sample_shape, torch::ScalarType dtype) const;
  /// One line for reports.
  virtual std::string describe() const = 0;
};

/// Puts float64 uniforms u in [0, 1] on the midpoint grid (2k + 1) 2^-b of the output dtype (b = 24 for
/// float, 53 for double) and converts: k = clamp(floor(u 2^(b-1)), 0, 2^(b-1) - 1). Grid points and
/// their complements 1 - u are exactly representable, so antithetic pairs sum to exactly 1, no value is
/// 0 or 1, and u ~ U(0, 1) maps to the exact discrete uniform on the 2^(b-1) grid points.
torch::Tensor uniform_grid(const torch::Tensor& u, torch::ScalarType dtype);

struct DesignEntry {
  ComponentInfo info;
  std::function<std::shared_ptr<NoiseDesign>(const Section&)> make;
};

Registry<DesignEntry>& design_registry();
/// Registers iid, antithetic, repulsive, coupling and rqmc (idempotent).
void register_builtin_designs();

}  // namespace ipbench
