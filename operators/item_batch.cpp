#include "operators/item_batch.h"

#include "core/error.h"

namespace ipbench {

ItemBatchOperator::ItemBatchOperator(std::vector<const Operator*> ops, std::vector<int64_t> counts)
    : Operator(ops.empty() || ops.front() == nullptr ? MeasurementOptions{} : ops.front()->noise(),
               ops.empty() || ops.front() == nullptr ? std::vector<int64_t>{} : ops.front()->image_shape()),
      ops_(std::move(ops)),
      counts_(std::move(counts)) {
  require(!ops_.empty() && ops_.size() == counts_.size(), "ItemBatchOperator: ", ops_.size(), " operators for ",
          counts_.size(), " sample counts. Violated: one count per operator, at least one");
  for (size_t i = 0; i < ops_.size(); ++i) {
    require(ops_[i] != nullptr && counts_[i] >= 1, "ItemBatchOperator: item ", i,
            " has no operator or a count < 1");
    require(ops_[i]->name() == ops_.front()->name() && ops_[i]->linear() == ops_.front()->linear() &&
                ops_[i]->measurement_shape() == ops_.front()->measurement_shape(),
            "ItemBatchOperator: item ", i, "'s operator (", ops_[i]->describe(), ") differs in kind or measurement "
            "shape from item 0's (", ops_.front()->describe(), ")");
    total_ += counts_[i];
  }
}

template <class F>
torch::Tensor ItemBatchOperator::per_item(const torch::Tensor& a, const torch::Tensor* b, F&& f) const {
  TORCH_CHECK(a.size(0) == total_, "ItemBatchOperator: a batch of ", a.size(0), " for ", total_, " samples");
  if (ops_.size() == 1) return f(*ops_.front(), a, b ? *b : torch::Tensor());
  std::vector<torch::Tensor> parts;
  parts.reserve(ops_.size());
  int64_t start = 0;
  for (size_t i = 0; i < ops_.size(); ++i) {
    const auto ai = a.narrow(0, start, counts_[i]);
    const auto bi = b ? b->narrow(0, start, counts_[i]) : torch::Tensor();
    parts.push_back(f(*ops_[i], ai, bi));
    start += counts_[i];
  }
  return torch::cat(parts, 0);
}

torch::Tensor ItemBatchOperator::forward(const torch::Tensor& x) const {
  return per_item(x, nullptr, [](const Operator& op, const torch::Tensor& xi, const torch::Tensor&) { return op.forward(xi); });
}

torch::Tensor ItemBatchOperator::adjoint(const torch::Tensor& y) const {
  return per_item(y, nullptr, [](const Operator& op, const torch::Tensor& yi, const torch::Tensor&) { return op.adjoint(yi); });
}

torch::Tensor ItemBatchOperator::normal(const torch::Tensor& x) const {
  return per_item(x, nullptr, [](const Operator& op, const torch::Tensor& xi, const torch::Tensor&) { return op.normal(xi); });
}

torch::Tensor ItemBatchOperator::loss(const torch::Tensor& ax, const torch::Tensor& y) const {
  // y may be per sample [B, m...] or one measurement [1, m...] broadcast over the batch.
  const torch::Tensor yb = y.size(0) == total_ ? y : y.expand(ax.sizes());
  return per_item(ax, &yb, [](const Operator& op, const torch::Tensor& ai, const torch::Tensor& yi) { return op.loss(ai, yi); });
}

std::string ItemBatchOperator::describe() const {
  return str_cat(ops_.size(), " items' ", ops_.front()->describe(), " (", total_, " samples)");
}

torch::Tensor ItemBatchOperator::stack_measurements(const std::vector<torch::Tensor>& ys) const {
  require(ys.size() == ops_.size(), "ItemBatchOperator: ", ys.size(), " measurements for ", ops_.size(), " items");
  std::vector<torch::Tensor> parts;
  parts.reserve(ys.size());
  for (size_t i = 0; i < ys.size(); ++i) {
    TORCH_CHECK(ys[i].size(0) == 1, "stack_measurements: item ", i, "'s y must be [1, m...]");
    std::vector<int64_t> reps(ys[i].dim(), 1);
    reps[0] = counts_[i];
    parts.push_back(ys[i].repeat(reps));
  }
  return torch::cat(parts, 0);
}

}  // namespace ipbench
