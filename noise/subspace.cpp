#include "noise/subspace.h"

#include <set>

#include "core/error.h"
#include "core/options.h"
#include "noise/designs.h"
#include "noise/equicorrelated.h"
#include "noise/rqmc.h"

namespace ipbench {

double coupling_correlation(const std::string& kind, double c, int64_t K, const std::string& owner) {
  require(K >= 2, owner, ": K = ", K, ". Violated: K >= 2 (members per coupled group)");
  if (kind == "identical") return 1.0;
  if (kind == "iid") return 0.0;
  if (kind == "repulsive") return -1.0 / static_cast<double>(K - 1);
  require(kind == "equicorrelated", owner, " = '", kind,
          "'. Violated: one of identical | repulsive | iid | equicorrelated");
  check_equicorrelation(K, c, owner + "_c");
  return c;
}

void SubspaceOptions::validate() const {
  require(K >= 2, "SubspaceOptions::K = ", K, ". Violated: K >= 2 (members per coupled group)");
  require(subspace == "box" || subspace == "operator" || subspace == "dct" || subspace == "channel",
          "SubspaceOptions::subspace = '", subspace, "'. Violated: one of box | operator | dct | channel");
  coupling_correlation(inside, inside_c, K, "SubspaceOptions::inside");
  coupling_correlation(outside, outside_c, K, "SubspaceOptions::outside");
  if (subspace == "box")
    require(box.size() == 4 && box[0] >= 0 && box[1] >= 0 && box[2] >= 1 && box[3] >= 1, "SubspaceOptions::box = ",
            option_value(box), ". Violated: box = top, left, height, width with top, left >= 0 and height, width >= 1");
  if (subspace == "dct")
    require(frequencies >= 1, "SubspaceOptions::frequencies = ", frequencies, ". Violated: frequencies >= 1");
  if (subspace == "channel") {
    require(!channels.empty(), "SubspaceOptions::channels is empty. Violated: at least one channel");
    for (auto ch : channels) require(ch >= 0, "SubspaceOptions::channels holds ", ch, ". Violated: channels >= 0");
  }
  require(!(invert && subspace == "dct"), "SubspaceOptions::invert = true with subspace = dct. Violated: invert ",
          "applies to box, operator and channel (for a high-pass V swap inside and outside)");
}

SubspaceDesign::SubspaceDesign(SubspaceOptions options, torch::Tensor operator_mask)
    : options_(std::move(options)), operator_mask_(std::move(operator_mask)) {
  options_.validate();
  c_in_ = coupling_correlation(options_.inside, options_.inside_c, options_.K, "SubspaceOptions::inside");
  c_out_ = coupling_correlation(options_.outside, options_.outside_c, options_.K, "SubspaceOptions::outside");
  A_in_ = equicorrelation_matrix(options_.K, c_in_);
  A_out_ = equicorrelation_matrix(options_.K, c_out_);
}

std::shared_ptr<const NoiseDesign> SubspaceDesign::bind_operator_mask(const torch::Tensor& mask) const {
  require(mask.defined(), "noise design subspace (subspace = operator): the operator has no pixel mask. ",
          "Violated: subspace = operator needs an operator with a mask (inpaint); use box, dct or channel");
  return std::make_shared<SubspaceDesign>(options_, mask.detach().to(torch::kCPU, torch::kDouble));
}

torch::Tensor SubspaceDesign::pixel_region(at::IntArrayRef shape) const {
  require(shape.size() == 3, "noise design subspace: sample shape ", shape, ". Violated: samples are [C, H, W]");
  const int64_t C = shape[0], H = shape[1], W = shape[2];
  torch::Tensor region;
  if (options_.subspace == "dct") return {};
  if (options_.subspace == "box") {
    const auto& b = options_.box;
    require(b[0] + b[2] <= H && b[1] + b[3] <= W, "noise design subspace: box = ", b[0], ", ", b[1], ", ", b[2], ", ",
            b[3], " (top, left, height, width) does not fit the ", H, " x ", W,
            " image. Violated: top + height <= H and left + width <= W");
    region = torch::zeros({1, H, W}, torch::kDouble);
    region.slice(1, b[0], b[0] + b[2]).slice(2, b[1], b[1] + b[3]).fill_(1.0);
  } else if (options_.subspace == "channel") {
    region = torch::zeros({C, H, W}, torch::kDouble);
    for (auto ch : options_.channels) {
      require(ch < C, "noise design subspace: channels holds ", ch, " but samples have ", C,
              " channel(s). Violated: every channel < C");
      region[ch].fill_(1.0);
    }
  } else {  // operator
    require(operator_mask_.defined(), "noise design subspace (subspace = operator) used before it was bound to an ",
            "operator's mask");
    auto m = operator_mask_;
    while (m.dim() > 3) m = m.squeeze(0);
    require(m.dim() == 3 && (m.size(0) == 1 || m.size(0) == C) && m.size(1) == H && m.size(2) == W,
            "noise design subspace: the operator's mask has shape ", operator_mask_.sizes(), ", samples are [", C,
            ", ", H, ", ", W, "]. Violated: the mask is [1 or C, H, W]");
    region = (m != 0).to(torch::kDouble);
  }
  return options_.invert ? 1.0 - region : region;
}

torch::Tensor SubspaceDesign::project(const torch::Tensor& x) const {
  TORCH_CHECK(x.dim() >= 3, "SubspaceDesign::project: x ", x.sizes());
  const int64_t C = x.size(-3), H = x.size(-2), W = x.size(-1);
  if (options_.subspace != "dct") return x * pixel_region({C, H, W}).to(x.device(), x.scalar_type());
  require(options_.frequencies <= H * W, "noise design subspace: frequencies = ", options_.frequencies,
          " exceeds the ", H * W, " DCT coefficients of a ", H, " x ", W, " channel. Violated: frequencies <= H W");
  auto keep = torch::zeros({H, W}, torch::kDouble);
  const auto zz = zigzag_order(H, W);
  for (int64_t j = 0; j < options_.frequencies; ++j) keep[zz[static_cast<size_t>(j)].first][zz[static_cast<size_t>(j)].second] = 1.0;
  const auto opts = torch::TensorOptions().device(x.device()).dtype(x.scalar_type());
  const auto dh = dct_matrix(H).to(opts), dw = dct_matrix(W).to(opts);
  const auto coef = torch::matmul(torch::matmul(dh, x), dw.t());  // orthonormal 2-D DCT-II per channel
  return torch::matmul(torch::matmul(dh.t(), coef * keep.to(opts)), dw);
}

torch::Tensor SubspaceDesign::draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                   at::IntArrayRef sample_shape, torch::ScalarType dtype) const {
  require(sample_shape.size() == 3, "noise design subspace: draw of shape ", sample_shape,
          ". Violated: samples are [C, H, W]");
  const auto u =
      group_base_normals(stream_key, first_group, num_groups, draw, options_.K, sample_shape, torch::kDouble);
  const auto z_out = couple_members(A_out_, u);
  const auto z = z_out + project(couple_members(A_in_, u) - z_out);
  return z.to(dtype).flatten(0, 1);
}

std::string SubspaceDesign::describe() const {
  std::string v = options_.subspace;
  if (options_.subspace == "box")
    v = str_cat("box ", options_.box[0], ",", options_.box[1], " ", options_.box[2], "x", options_.box[3]);
  else if (options_.subspace == "dct")
    v = str_cat(options_.frequencies, " lowest DCT frequencies");
  else if (options_.subspace == "operator")
    v = "the operator's observed pixels";
  if (options_.invert) v = "complement of " + v;
  return str_cat("subspace: K = ", options_.K, ", on V = ", v, " ", options_.inside, " (c = ", c_in_, "), off V ",
                 options_.outside, " (c = ", c_out_, "), on every draw");
}

}  // namespace ipbench
