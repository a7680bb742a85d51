#pragma once
// Built-in noise designs: independent (iid) and antithetic pairs.
#include "noise/design.h"

namespace ipbench {

/// Independent draws: K = 1, member draw = keyed N(0, I).
struct IidOptions {
  template <class F>
  void fields(F&&) {}
  void validate() const {}
};

class IidDesign : public NoiseDesign {
 public:
  torch::Tensor draw_uniform(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                             at::IntArrayRef sample_shape, torch::ScalarType dtype) const override;
  std::string name() const override { return "iid"; }
  int64_t group_size() const override { return 1; }
  torch::Tensor draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                     at::IntArrayRef sample_shape, torch::ScalarType dtype) const override;
  std::string describe() const override { return "iid: independent N(0,I) draws (plain Monte Carlo), K = 1"; }
};

/// Antithetic pairs: K = 2, (z, -z) for every draw of a trajectory (antithetic paper).
struct AntitheticOptions {
  template <class F>
  void fields(F&&) {}
  void validate() const {}
};

class AntitheticDesign : public NoiseDesign {
 public:
  torch::Tensor draw_uniform(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                             at::IntArrayRef sample_shape, torch::ScalarType dtype) const override;
  std::string name() const override { return "antithetic"; }
  int64_t group_size() const override { return 2; }
  torch::Tensor draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                     at::IntArrayRef sample_shape, torch::ScalarType dtype) const override;
  std::string describe() const override { return "antithetic: pairs (z, -z) on every draw, K = 2"; }
};

/// The base draw u of one group: N(0, I) keyed by (stream_key, group, draw). Shared by designs so
/// that every design's first member is built from the same kind of keyed normal. Allocated on
/// noise_device() (noise/device.h: the NoiseStream's device, CPU by default), where the values are
/// bitwise the CPU's; designs transform it with tensor ops on u.device().
torch::Tensor group_base_normals(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                 int64_t per_group, at::IntArrayRef sample_shape, torch::ScalarType dtype);

/// Keyed float64 uniforms in (0, 1) of one group, [num_groups, per_group, sample_shape...]: the same keys
/// as group_base_normals (a draw index is either a Gaussian or a uniform draw, never both).
torch::Tensor group_base_uniforms(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                  int64_t per_group, at::IntArrayRef sample_shape);

}  // namespace ipbench
