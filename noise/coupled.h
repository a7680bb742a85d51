#pragma once
// K-coupled Gaussian designs (specs/noise-and-stats.md section 4; couple-to-control paper, Thm 3.3).
//
// Both couple EVERY draw of a trajectory (initial noise and every per-step draw), like antithetic.
//   repulsive: u_1..u_K iid N(0, I), z_i = sqrt(K/(K-1)) (u_i - ubar): each z_i exactly N(0, I),
//              Corr(z_i, z_j) = -1/(K-1), sum_i z_i = 0; K = 2 gives (u', -u') (antithetic).
//   coupling:  z = A u, A an M x r matrix with unit-norm rows, u_1..u_r iid N(0, I): each z_m exactly
//              N(0, I) and Cov(z_i, z_j) = (A A^T)_ij I. K = M.
#include <vector>

#include "noise/design.h"

namespace ipbench {

struct RepulsiveOptions {
  /// Members per group, K >= 2 (K = 2 is antithetic; the couple-to-control paper uses K = 3, 4).
  int64_t K = 4;
  template <class F>
  void fields(F&& f) {
    f("K", K, "members per coupled group, >= 2 (pairwise correlation -1/(K-1))");
  }
  void validate() const;
};

class RepulsiveDesign : public NoiseDesign {
 public:
  explicit RepulsiveDesign(RepulsiveOptions options);
  std::string name() const override { return "repulsive"; }
  int64_t group_size() const override { return options_.K; }
  torch::Tensor draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                     at::IntArrayRef sample_shape, torch::ScalarType dtype) const override;
  std::string describe() const override;

 private:
  RepulsiveOptions options_;
};

struct CouplingOptions {
  /// The coupling matrix inline, rows separated by '|', entries by spaces or commas:
  /// "0.6 0.8 | 0.6 -0.8". Exactly one of matrix and file.
  std::string matrix = "";
  /// A text file holding the matrix, one row per line (entries separated by spaces or commas; '#'
  /// starts a comment).
  std::string file = "";
  /// The same as file (the name `ipbench couple learn` writes into its design snippet).
  std::string matrix_file = "";
  template <class F>
  void fields(F&& f) {
    f("matrix", matrix, "coupling matrix A (M x r) inline: rows separated by '|', e.g. \"0.6 0.8 | 0.6 -0.8\"");
    f("file", file, "text file with the coupling matrix, one row per line (instead of matrix)");
    f("matrix_file", matrix_file, "the same as file (what `ipbench couple learn` writes)");
  }
  void validate() const;
};

/// Parses "a b; c d" (or the lines of a file) into rows; Error naming `origin` on a bad number or
/// rows of different lengths.
std::vector<std::vector<double>> parse_matrix(const std::string& text, char row_separator, const std::string& origin);

class CouplingDesign : public NoiseDesign {
 public:
  /// A: M x r with unit-norm rows, i.e. diag(A A^T) = 1 within 1e-6 (marginal-preserving); otherwise an
  /// Error naming the worst row, its norm and (A A^T)_mm.
  explicit CouplingDesign(std::vector<std::vector<double>> A, std::string origin = "matrix");
  static std::shared_ptr<CouplingDesign> from_options(const CouplingOptions& options);
  std::string name() const override { return "coupling"; }
  int64_t group_size() const override { return static_cast<int64_t>(rows_); }
  torch::Tensor draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                     at::IntArrayRef sample_shape, torch::ScalarType dtype) const override;
  std::string describe() const override;
  /// A as an [M, r] float64 tensor.
  const torch::Tensor& matrix() const { return A_; }

 private:
  torch::Tensor A_;
  size_t rows_ = 0, cols_ = 0;
  std::string origin_;
};

}  // namespace ipbench
