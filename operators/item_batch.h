#pragma once
// ItemBatchOperator: several items' operators behind one Operator, for batches across items (issue 17).
//
// Item i's operator (its own keyed mask, kernel, subsampling, ...) serves counts[i] consecutive samples
// of the batch. forward, adjoint, normal and loss split the batch by item, apply that item's operator
// and concatenate: a sample sees exactly what it sees in a per-item batch. The measurement y of such a
// batch is per sample: [B, m...] (item i's y repeated counts[i] times, see stack_measurements).
// The loop is over items (a few per batch), never over samples. A tensor of k x B rows (k >= 1) is
// read sample-major, k consecutive rows per sample (LGD's Monte-Carlo copies, DDSMC's particles, EnKG's
// ensemble members): item i's slice is its k * counts[i] rows, and loss repeats a per-sample y k times.
//
// Closed-form data steps (operators/svd.h) follow the items: svd() is an ItemBatchSvd when every item
// has one (each slice through its item's U, V; s_like gives [B, C, H, W], each sample its item's
// singular values), and equal_singular_value() is the items' common value (NaN when they differ), so
// data_step_mode and every SVD / projector step take the branch and the arithmetic of a per-item batch.
// OperatorSvd::s() (the [C, H, W] master) has no single value here and is left undefined: a solver
// declaring Requirements::item_batch reads singular values through s_like only.
#include <memory>
#include <vector>

#include "operators/operator.h"
#include "operators/svd.h"

namespace ipbench {

class ItemBatchOperator : public Operator {
 public:
  /// ops[i] (not owned, outlives this) serves counts[i] >= 1 samples. All ops have the same name,
  /// linearity and measurement shape (Error otherwise).
  ItemBatchOperator(std::vector<const Operator*> ops, std::vector<int64_t> counts);

  std::string name() const override { return ops_.front()->name(); }
  bool linear() const override { return ops_.front()->linear(); }
  torch::Tensor forward(const torch::Tensor& x) const override;
  torch::Tensor adjoint(const torch::Tensor& y) const override;
  torch::Tensor normal(const torch::Tensor& x) const override;
  torch::Tensor loss(const torch::Tensor& ax, const torch::Tensor& y) const override;
  std::vector<int64_t> measurement_shape() const override { return ops_.front()->measurement_shape(); }
  std::string describe() const override;
  const OperatorSvd* svd() const override { return svd_.get(); }
  double equal_singular_value() const override;

  int64_t batch_size() const { return total_; }
  /// [B, m...]: y_i ([1, m...], one per item) repeated counts[i] times.
  torch::Tensor stack_measurements(const std::vector<torch::Tensor>& ys) const;

 private:
  /// Applies f(op_i, slice_i of each tensor) and concatenates along the batch.
  template <class F>
  torch::Tensor per_item(const torch::Tensor& a, const torch::Tensor* b, F&& f) const;

  std::vector<const Operator*> ops_;
  std::vector<int64_t> counts_;
  int64_t total_ = 0;
  std::unique_ptr<OperatorSvd> svd_;  ///< an ItemBatchSvd when every item's operator has an SVD
};

}  // namespace ipbench
