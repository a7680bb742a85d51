#pragma once
// `subspace`: couple the projection onto a subspace V one way and its complement another
// (couple-to-control paper, section 3.3 "Coupling on a subspace").
//
// With u_1..u_K iid N(0, I) (one keyed base draw per member), A_in and A_out K x K coupling matrices
// with unit-norm rows (noise/equicorrelated.h: identical c = 1, iid c = 0, repulsive c = -1/(K-1), or
// any equicorrelated c) and P_V the orthogonal projection onto V:
//     z = P_V (A_in u) + (I - P_V) (A_out u).
// Because P_V acts on pixels and A on members, Cov(z_i, z_j) = (A_in A_in^T)_ij P_V +
// (A_out A_out^T)_ij (I - P_V): every member is exactly N(0, I) (diagonal 1 on both parts) and members
// are correlated c_in on V and c_out off V. One base draw serves both parts (the cross terms vanish
// because P_V (I - P_V) = 0).
// V is
//   box       the pixels of a box [top, left, height, width] (all channels);
//   operator  the operator's own mask (inpaint: V = observed pixels; invert = true: the missing ones),
//             bound per item by the runner (Operator::pixel_mask);
//   dct       the `frequencies` lowest frequencies (zigzag order, the RQMC low-pass block,
//             noise/rqmc.h) of the orthonormal 2-D DCT-II of every channel;
//   channel   the listed channels.
// invert = true swaps V and its complement (box, operator, channel). Every draw of a trajectory is
// coupled the same way. Sample shapes must be [C, H, W].
#include <vector>

#include "noise/design.h"

namespace ipbench {

struct SubspaceOptions {
  int64_t K = 4;
  /// box | operator | dct | channel.
  std::string subspace = "box";
  /// box: top, left, height, width in pixels (must fit the image).
  std::vector<int64_t> box{8, 8, 16, 16};
  /// dct: coefficients per channel in V (the lowest, zigzag order); 64 = the 8 x 8 block RQMC uses.
  int64_t frequencies = 64;
  /// channel: the channels spanning V.
  std::vector<int64_t> channels{0};
  /// V becomes its complement (box, operator, channel).
  bool invert = false;
  /// Coupling on V and off V: identical | repulsive | iid | equicorrelated (with inside_c / outside_c).
  std::string inside = "identical";
  double inside_c = 0.0;
  std::string outside = "iid";
  double outside_c = 0.0;
  template <class F>
  void fields(F&& f) {
    f("K", K, "members per coupled group, >= 2");
    f("subspace", subspace, "V: box | operator (the operator's mask, inpaint) | dct (low frequencies) | channel");
    f("box", box, "box: top, left, height, width in pixels");
    f("frequencies", frequencies, "dct: lowest DCT coefficients per channel in V (zigzag; 64 = 8x8 block as in rqmc)");
    f("channels", channels, "channel: channel indices spanning V");
    f("invert", invert, "V becomes its complement (box, operator: V = missing pixels, channel)");
    f("inside", inside, "coupling on V: identical | repulsive | iid | equicorrelated (inside_c)");
    f("inside_c", inside_c, "inside = equicorrelated: pairwise correlation on V, -1/(K-1) <= c <= 1");
    f("outside", outside, "coupling off V: iid | identical | repulsive | equicorrelated (outside_c)");
    f("outside_c", outside_c, "outside = equicorrelated: pairwise correlation off V, -1/(K-1) <= c <= 1");
  }
  void validate() const;
};

/// The pairwise correlation a coupling name stands for: identical 1, iid 0, repulsive -1/(K-1),
/// equicorrelated c (checked against its bound). Error naming `owner` for another name.
double coupling_correlation(const std::string& kind, double c, int64_t K, const std::string& owner);

class SubspaceDesign : public NoiseDesign {
 public:
  explicit SubspaceDesign(SubspaceOptions options, torch::Tensor operator_mask = {});
  std::string name() const override { return "subspace"; }
  int64_t group_size() const override { return options_.K; }
  torch::Tensor draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                     at::IntArrayRef sample_shape, torch::ScalarType dtype) const override;
  std::string describe() const override;
  bool uses_operator_mask() const override { return options_.subspace == "operator" && !operator_mask_.defined(); }
  std::shared_ptr<const NoiseDesign> bind_operator_mask(const torch::Tensor& mask) const override;
  /// box, operator, channel: 0/1 float64 [1 or C, H, W]; dct: undefined. Error when the box does not fit
  /// or the operator's mask does not match the sample shape.
  torch::Tensor pixel_region(at::IntArrayRef sample_shape) const override;
  /// P_V x for x [..., C, H, W] (float or double, any device).
  torch::Tensor project(const torch::Tensor& x) const;
  double inside_correlation() const { return c_in_; }
  double outside_correlation() const { return c_out_; }

 private:
  SubspaceOptions options_;
  torch::Tensor operator_mask_;  ///< bound operator mask (CPU float64), subspace = operator
  double c_in_ = 1, c_out_ = 0;
  torch::Tensor A_in_, A_out_;
};

}  // namespace ipbench
