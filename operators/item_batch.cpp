#include "operators/item_batch.h"

#include <cmath>

#include "core/error.h"

namespace ipbench {

namespace {

/// f(i, start, n) for every item i (its n = k * counts[i] rows of the batch from `start`), concatenated
/// along the batch; one item: f(0, 0, batch) as it is. A batch of k * total rows holds k consecutive rows
/// per sample (sample-major: Monte-Carlo copies, particles or ensemble members of one sample together).
/// Error naming `who` when `batch` is not a positive multiple of the counts' total.
template <class F>
torch::Tensor over_items(const std::vector<int64_t>& counts, int64_t batch, const char* who, F&& f) {
  int64_t total = 0;
  for (int64_t n : counts) total += n;
  TORCH_CHECK(batch > 0 && batch % total == 0, who, ": a batch of ", batch, " rows for ", total,
              " samples (rows must be k per sample, k >= 1, sample-major)");
  const int64_t k = batch / total;
  if (counts.size() == 1) return f(size_t{0}, int64_t{0}, batch);
  std::vector<torch::Tensor> parts;
  parts.reserve(counts.size());
  int64_t start = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    parts.push_back(f(i, start, k * counts[i]));
    start += k * counts[i];
  }
  return torch::cat(parts, 0);
}

/// The SVDs of a batch's items: each slice of counts[i] samples through item i's SVD (see the header).
class ItemBatchSvd : public OperatorSvd {
 public:
  ItemBatchSvd(std::vector<const OperatorSvd*> svds, std::vector<int64_t> counts)
      : svds_(std::move(svds)), counts_(std::move(counts)) {}
  torch::Tensor Vt(const torch::Tensor& x) const override {
    return per_item(x, [](const OperatorSvd& s, const torch::Tensor& t) { return s.Vt(t); });
  }
  torch::Tensor V(const torch::Tensor& c) const override {
    return per_item(c, [](const OperatorSvd& s, const torch::Tensor& t) { return s.V(t); });
  }
  torch::Tensor Ut_embed(const torch::Tensor& y) const override {
    return per_item(y, [](const OperatorSvd& s, const torch::Tensor& t) { return s.Ut_embed(t); });
  }
  torch::Tensor U(const torch::Tensor& c) const override {
    return per_item(c, [](const OperatorSvd& s, const torch::Tensor& t) { return s.U(t); });
  }
  torch::Tensor s_like(const torch::Tensor& x) const override {
    return per_item_constant(x, [&](const OperatorSvd& s) { return s.s_like(x); });
  }
  torch::Tensor kept_like(const torch::Tensor& x, double cutoff) const override {
    return per_item_constant(x, [&](const OperatorSvd& s) { return s.kept_like(x, cutoff); });
  }

 private:
  // [B, C, H, W]: each item's [C, H, W] tensor f(svd_i) repeated over its rows.
  template <class F>
  torch::Tensor per_item_constant(const torch::Tensor& x, F&& f) const {
    return over_items(counts_, x.size(0), "ItemBatchSvd", [&](size_t i, int64_t, int64_t n) {
      const torch::Tensor ti = f(*svds_[i]);
      std::vector<int64_t> shape{n};
      shape.insert(shape.end(), ti.sizes().begin(), ti.sizes().end());
      return ti.unsqueeze(0).expand(shape);
    });
  }

  template <class F>
  torch::Tensor per_item(const torch::Tensor& a, F&& f) const {
    return over_items(counts_, a.size(0), "ItemBatchSvd",
                      [&](size_t i, int64_t start, int64_t n) { return f(*svds_[i], a.narrow(0, start, n)); });
  }

  std::vector<const OperatorSvd*> svds_;
  std::vector<int64_t> counts_;
};

}  // namespace

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
  std::vector<const OperatorSvd*> svds;
  for (const Operator* op : ops_)
    if (op->svd() != nullptr) svds.push_back(op->svd());
  if (svds.size() == ops_.size()) svd_ = std::make_unique<ItemBatchSvd>(std::move(svds), counts_);
}

double ItemBatchOperator::equal_singular_value() const {
  const double c = ops_.front()->equal_singular_value();
  for (const Operator* op : ops_)
    if (!(op->equal_singular_value() == c)) return std::nan("");  // differ, or NaN
  return c;
}

template <class F>
torch::Tensor ItemBatchOperator::per_item(const torch::Tensor& a, const torch::Tensor* b, F&& f) const {
  return over_items(counts_, a.size(0), "ItemBatchOperator", [&](size_t i, int64_t start, int64_t n) {
    return f(*ops_[i], a.narrow(0, start, n), b ? b->narrow(0, start, n) : torch::Tensor());
  });
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
  // y may be per sample [B, m...] (repeated for k rows per sample: ax [k B, m...]) or one measurement
  // [1, m...] broadcast over the batch.
  const int64_t rows = ax.size(0);
  const torch::Tensor yb = y.size(0) == rows                                   ? y
                           : y.size(0) == total_ && rows % total_ == 0        ? y.repeat_interleave(rows / total_, 0)
                                                                               : y.expand(ax.sizes());
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
