#include "noise/coupled.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "noise/designs.h"

namespace ipbench {

void RepulsiveOptions::validate() const {
  require(K >= 2, "RepulsiveOptions::K = ", K, ". Violated: K >= 2 (K members per coupled group)");
}

RepulsiveDesign::RepulsiveDesign(RepulsiveOptions options) : options_(options) { options_.validate(); }

torch::Tensor RepulsiveDesign::draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                    at::IntArrayRef sample_shape, torch::ScalarType dtype) const {
  const int64_t K = options_.K;
  const auto u = group_base_normals(stream_key, first_group, num_groups, draw, K, sample_shape, torch::kDouble);
  // ubar as an explicit left-to-right sum of elementwise ops (not a reduction kernel): every op is one
  // IEEE rounding, so the draws are bitwise equal on every device.
  auto sum = u.select(1, 0).clone();
  for (int64_t k = 1; k < K; ++k) sum = sum + u.select(1, k);
  // times 1/K rather than / K: CUDA's division by a scalar multiplies by the reciprocal.
  const auto ubar = (sum * (1.0 / static_cast<double>(K))).unsqueeze(1);
  const auto z = (u - ubar) * std::sqrt(static_cast<double>(K) / static_cast<double>(K - 1));
  return z.to(dtype).flatten(0, 1);
}

std::string RepulsiveDesign::describe() const {
  return str_cat("repulsive: K = ", options_.K, " members z_i = sqrt(K/(K-1)) (u_i - ubar), pairwise correlation ",
                 -1.0 / static_cast<double>(options_.K - 1), ", on every draw");
}

void CouplingOptions::validate() const {
  require(matrix.empty() != file.empty(), "CouplingOptions: matrix = \"", matrix, "\", file = \"", file,
          "\". Violated: exactly one of matrix and file is set");
}

std::vector<std::vector<double>> parse_matrix(const std::string& text, char row_separator, const std::string& origin) {
  std::vector<std::vector<double>> rows;
  std::stringstream all(text);
  std::string row;
  int64_t line = 0;
  while (std::getline(all, row, row_separator)) {
    ++line;
    if (const auto hash = row.find('#'); hash != std::string::npos) row.erase(hash);
    for (char& c : row)
      if (c == ',' || c == '\t' || c == '\r') c = ' ';
    std::stringstream in(row);
    std::vector<double> values;
    std::string token;
    while (in >> token) {
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(token, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      require(used == token.size() && std::isfinite(v), origin, ": row ", line, ": '", token,
              "' is not a finite number");
      values.push_back(v);
    }
    if (values.empty()) continue;
    require(rows.empty() || values.size() == rows.front().size(), origin, ": row ", line, " has ", values.size(),
            " entries, the first row has ", rows.empty() ? 0 : rows.front().size(),
            ". Violated: every row of the coupling matrix has the same length");
    rows.push_back(std::move(values));
  }
  return rows;
}

CouplingDesign::CouplingDesign(std::vector<std::vector<double>> A, std::string origin) : origin_(std::move(origin)) {
  require(!A.empty() && !A.front().empty(), origin_, ": the coupling matrix is empty");
  rows_ = A.size();
  cols_ = A.front().size();
  A_ = torch::empty({static_cast<int64_t>(rows_), static_cast<int64_t>(cols_)}, torch::kDouble);
  auto acc = A_.accessor<double, 2>();
  for (size_t m = 0; m < rows_; ++m) {
    require(A[m].size() == cols_, origin_, ": row ", m + 1, " has ", A[m].size(), " entries, expected ", cols_);
    double norm2 = 0;
    for (size_t j = 0; j < cols_; ++j) {
      acc[m][j] = A[m][j];
      norm2 += A[m][j] * A[m][j];
    }
    require(std::abs(std::sqrt(norm2) - 1.0) <= 1e-6, origin_, ": row ", m + 1, " has norm ", std::sqrt(norm2),
            ". Violated: every row of the coupling matrix has unit norm (so that each member is exactly N(0, I);",
            " couple-to-control paper, Theorem 3.3)");
  }
}

std::shared_ptr<CouplingDesign> CouplingDesign::from_options(const CouplingOptions& options) {
  options.validate();
  if (!options.matrix.empty())
    return std::make_shared<CouplingDesign>(parse_matrix(options.matrix, '|', "coupling matrix"), "coupling matrix");
  std::ifstream in(options.file);
  require(static_cast<bool>(in), "coupling matrix file '", options.file, "' cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  const std::string origin = "coupling matrix file '" + options.file + "'";
  return std::make_shared<CouplingDesign>(parse_matrix(text.str(), '\n', origin), origin);
}

torch::Tensor CouplingDesign::draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                                   at::IntArrayRef sample_shape, torch::ScalarType dtype) const {
  const auto r = static_cast<int64_t>(cols_);
  const auto u = group_base_normals(stream_key, first_group, num_groups, draw, r, sample_shape, torch::kDouble);
  // z_m = sum_j A_mj u_j as elementwise multiply-adds in a fixed order (not a BLAS product, whose
  // summation order depends on the device and library): bitwise equal on every device.
  auto acc = A_.accessor<double, 2>();
  std::vector<torch::Tensor> members;
  members.reserve(rows_);
  for (size_t m = 0; m < rows_; ++m) {
    auto z = u.select(1, 0) * acc[m][0];
    for (int64_t j = 1; j < r; ++j) z = z + u.select(1, j) * acc[m][j];
    members.push_back(z.to(dtype));
  }
  std::vector<int64_t> shape{num_groups * static_cast<int64_t>(rows_)};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  return torch::stack(members, 1).reshape(shape);  // [G, M, ...]: members of a group contiguous
}

std::string CouplingDesign::describe() const {
  const auto gram = torch::matmul(A_, A_.t());
  const double offdiag = rows_ > 1 ? (gram.sum() - gram.diagonal().sum()).item<double>() / static_cast<double>(rows_ * (rows_ - 1)) : 0;
  return str_cat("coupling: z = A u, A ", rows_, " x ", cols_, " (", origin_, "), K = ", rows_,
                 ", mean pairwise correlation ", offdiag, ", on every draw");
}

}  // namespace ipbench
