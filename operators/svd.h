#pragma once
// Operator capabilities beyond forward/adjoint (specs/solvers-2.md 0.10; docs/operators.md).
//
// A linear operator may offer a closed-form singular value decomposition A = U diag(s) V^T through
// Operator::svd(). Coefficients live in IMAGE shape: c = V^T x is [B, C, H, W] like x, and s is a
// [C, H, W] tensor of singular values (0 on the null space), so solvers draw coefficient noise with
// the same shape as x and apply per-coefficient rules elementwise:
//   Vt(x)        [B, C, H, W] -> [B, C, H, W]     V^T x
//   V(c)         [B, C, H, W] -> [B, C, H, W]     V c
//   Ut_embed(y)  [B, m...]    -> [B, C, H, W]     U^T y at the coefficients of its singular values, 0 elsewhere
//   U(c)         [B, C, H, W] -> [B, m...]        U c_r with c_r the coefficients Ut_embed fills (its inverse on the range)
//   s_like(x)    [C, H, W] singular values in x's dtype and device
//   kept_like(x, cutoff)  [C, H, W] bool: the coefficients a pseudo-inverse truncated at cutoff keeps (a
//                separable SVD cuts each 1-D factor, as the official DDRM / DDNM H functions)
// so A x = U(s * Vt(x)), A^T y = V(s * Ut_embed(y)) and A^+ y = V(Ut_embed(y) / s on s > 0).
// Built-in SVDs (all exact, computed once in float64):
//   DiagonalSvd   A = diag(m) on the pixels (inpaint: m = mask; denoise: m = 1); U = V = I
//   ChannelSvd    A = w^T over the channels of each pixel (colorize); V = an orthonormal basis whose
//                 first vector is w/|w|, s = |w| at channel 0
//   SeparableSvd  A x = Mh x Mw^T per channel (superres avgpool and bicubic, gaussian_blur with any
//                 padding: each is a Kronecker product of 1-D matrices); two 1-D SVDs, s = s_h s_w^T
// Type-level declarations (OperatorCapabilities) say which registered operators offer what, for the
// solver x operator matrix and the compatibility check before a run.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace ipbench {

/// What an operator type offers beyond forward (and the true adjoint of a linear operator).
struct OperatorCapabilities {
  /// Closed-form SVD (Operator::svd() is non-null): DDRM, DDNM+, closed-form A^+, prox and Gaussian steps.
  bool svd = false;
  /// All nonzero singular values are equal (A A^T A = c^2 A, Operator::equal_singular_value()):
  /// A^+ = A^T / c^2 and closed-form prox / Gaussian steps without an SVD ("projector mode").
  bool projector = false;
  /// Closed-form data steps: pseudo-inverse, least-squares prox and Gaussian conditional draw (svd or
  /// projector); a linear operator without them gets conjugate gradients on A^T A + rho I.
  bool closed_form() const { return svd || projector; }
  /// One phrase for messages and `ipbench list`.
  std::string describe(bool linear) const;
};

class OperatorSvd {
 public:
  virtual ~OperatorSvd() = default;
  virtual torch::Tensor Vt(const torch::Tensor& x) const = 0;
  virtual torch::Tensor V(const torch::Tensor& c) const = 0;
  virtual torch::Tensor Ut_embed(const torch::Tensor& y) const = 0;
  virtual torch::Tensor U(const torch::Tensor& c) const = 0;
  /// Singular values [C, H, W] (float64 master on the CPU; 0 on the null space).
  const torch::Tensor& s() const { return s64_; }
  /// s() in x's dtype and device: [C, H, W], broadcast over the batch by every caller's elementwise rules.
  /// A batch across items (operators/item_batch.h) returns [B, C, H, W], each sample its item's values.
  virtual torch::Tensor s_like(const torch::Tensor& x) const;
  /// The coefficients a pseudo-inverse truncated at `cutoff` keeps (bool, shaped like s_like): s > 0 and
  /// s >= cutoff. A separable SVD applies the cutoff to each 1-D factor instead, as DDRM's and DDNM's
  /// deblurring and super-resolution H functions do (their ZERO = 3e-2 on the 1-D singular values).
  virtual torch::Tensor kept_like(const torch::Tensor& x, double cutoff) const;

 protected:
  torch::Tensor s64_;
  mutable torch::Tensor s_cache_;
};

/// A = diag(m) on the pixels, m [C or 1, H, W] broadcast to image_shape [C, H, W]; U = V = I.
class DiagonalSvd : public OperatorSvd {
 public:
  DiagonalSvd(const torch::Tensor& m, const std::vector<int64_t>& image_shape);
  torch::Tensor Vt(const torch::Tensor& x) const override { return x; }
  torch::Tensor V(const torch::Tensor& c) const override { return c; }
  torch::Tensor Ut_embed(const torch::Tensor& y) const override;
  torch::Tensor U(const torch::Tensor& c) const override;
};

/// y[b, 0, h, w] = sum_c w_c x[b, c, h, w]; w [C] float64.
class ChannelSvd : public OperatorSvd {
 public:
  ChannelSvd(const torch::Tensor& w, const std::vector<int64_t>& image_shape);
  torch::Tensor Vt(const torch::Tensor& x) const override;
  torch::Tensor V(const torch::Tensor& c) const override;
  torch::Tensor Ut_embed(const torch::Tensor& y) const override;
  torch::Tensor U(const torch::Tensor& c) const override;

 private:
  torch::Tensor q64_;  ///< [C, C] orthonormal rows, row 0 = w / |w|
};

/// y[b, c] = Mh x[b, c] Mw^T with Mh [mh, H], Mw [mw, W] float64, mh <= H and mw <= W.
class SeparableSvd : public OperatorSvd {
 public:
  SeparableSvd(const torch::Tensor& mh, const torch::Tensor& mw, const std::vector<int64_t>& image_shape);
  torch::Tensor Vt(const torch::Tensor& x) const override;
  torch::Tensor V(const torch::Tensor& c) const override;
  torch::Tensor Ut_embed(const torch::Tensor& y) const override;
  torch::Tensor U(const torch::Tensor& c) const override;
  torch::Tensor kept_like(const torch::Tensor& x, double cutoff) const override;

 private:
  int64_t mh_, mw_;
  torch::Tensor uh64_, vh64_, uw64_, vw64_;  ///< Uh [mh, mh], Vh [H, H], Uw [mw, mw], Vw [W, W]
  torch::Tensor factor64_;  ///< [C, H, W]: min(s_h[i], s_w[j]), the smaller 1-D factor of each coefficient
};

/// The [n, n] float64 matrix of a 1-D "same" convolution (correlation) with odd-length taps and the
/// padding of torch's pad: reflect (-1 -> 1), circular (-1 -> n - 1) or zeros.
torch::Tensor convolution_matrix_1d(const torch::Tensor& taps, int64_t n, const std::string& padding);
/// The [n / f, n] float64 block-average matrix (rows 1/f on f consecutive entries).
torch::Tensor block_average_matrix_1d(int64_t n, int64_t f);

}  // namespace ipbench
