#include "harness/reconstructions.h"

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "datasets/dataset.h"

namespace ipbench {

namespace fs = std::filesystem;

namespace {

fs::path cell_dir(const std::string& run_dir, const std::string& op, const std::string& solver,
                  const std::string& design) {
  return fs::path(run_dir) / "reconstructions" / op / solver / design;
}

}  // namespace

void write_reconstruction_batch(const std::string& run_dir, const Record& cell, int64_t item, int64_t first_sample,
                                const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const auto dir = cell_dir(run_dir, cell.op, cell.solver, cell.design);
  fs::create_directories(dir);
  Dataset batch;
  batch.images = torch::nan_to_num(x.detach().to(torch::kCPU, torch::kFloat), 0.0, 0.0, 0.0).clamp(-1.0, 1.0);
  batch.labels = torch::arange(first_sample, first_sample + x.size(0), torch::kLong);
  batch.attributes.source = cell.cell;
  batch.attributes.split = "reconstructions";
  write_dataset((dir / str_cat("item", item, "_s", first_sample, ".h5")).string(), batch);
}

bool has_reconstructions(const std::string& run_dir) { return fs::is_directory(fs::path(run_dir) / "reconstructions"); }

std::vector<CellCorrelation> correlate_run(const std::string& run_dir, const std::vector<Record>& records,
                                           double confidence) {
  // Status of every sample, and the cells in record order.
  std::map<std::tuple<std::string, int64_t, int64_t>, bool> ok;  // (cell, item, sample) -> status ok
  std::vector<const Record*> cells;
  std::set<std::string> seen;
  for (const auto& r : records) {
    ok[{r.cell, r.item, r.group * r.group_size + r.member}] = r.status == "ok";
    if (seen.insert(r.cell).second) cells.push_back(&r);
  }
  std::vector<CellCorrelation> out;
  for (const Record* cell : cells) {
    const auto dir = cell_dir(run_dir, cell->op, cell->solver, cell->design);
    if (!fs::is_directory(dir)) continue;
    // item -> sample index -> image
    std::map<int64_t, std::map<int64_t, torch::Tensor>> items;
    std::vector<int64_t> image_shape;
    for (const auto& file : fs::directory_iterator(dir)) {
      if (file.path().extension() != ".h5") continue;
      const std::string stem = file.path().stem().string();  // item<I>_s<first>
      int64_t item = 0, first = 0;
      require(std::sscanf(stem.c_str(), "item%ld_s%ld", &item, &first) == 2, "reconstruction file '",
              file.path().string(), "': name is not item<I>_s<first>.h5");
      const Dataset batch = read_dataset(file.path().string());
      require(batch.labels.defined() && batch.labels.size(0) == batch.images.size(0), "reconstruction file '",
              file.path().string(), "' has no /labels (sample indices)");
      const std::vector<int64_t> shape(batch.images.sizes().begin() + 1, batch.images.sizes().end());
      if (image_shape.empty()) image_shape = shape;
      require(shape == image_shape, "reconstruction file '", file.path().string(), "': image shape differs from the",
              " other batches of cell ", cell->cell);
      for (int64_t b = 0; b < batch.images.size(0); ++b) items[item][batch.labels[b].item<int64_t>()] = batch.images[b];
    }
    PairCorrelations pooled;
    for (const auto& [item, samples] : items) {
      const int64_t K = cell->group_size;
      // Whole groups only, in sample order; a group with a missing sample is left out.
      std::vector<torch::Tensor> images;
      std::vector<bool> status;
      const int64_t last = samples.rbegin()->first;
      for (int64_t g = 0; g * K <= last; ++g) {
        bool complete = true;
        for (int64_t k = 0; k < K; ++k) complete &= samples.count(g * K + k) > 0;
        if (!complete) continue;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t s = g * K + k;
          const auto it = ok.find({cell->cell, item, s});
          require(it != ok.end(), "reconstructions of cell ", cell->cell, ", item ", item, ": sample ", s,
                  " has no record in records.csv (a folder from another run?)");
          images.push_back(samples.at(s));
          status.push_back(it->second);
        }
      }
      if (images.empty()) continue;
      auto mask = torch::zeros({static_cast<int64_t>(status.size())}, torch::kBool);
      for (size_t i = 0; i < status.size(); ++i) mask[static_cast<int64_t>(i)] = static_cast<bool>(status[i]);
      const auto pairs = item_pair_correlations(torch::stack(images), mask, K);
      pooled.standard.insert(pooled.standard.end(), pairs.standard.begin(), pairs.standard.end());
      pooled.centralized.insert(pooled.centralized.end(), pairs.centralized.begin(), pairs.centralized.end());
    }
    CellCorrelation c = summarize_correlations(pooled, confidence);
    c.cell = cell->cell;
    c.op = cell->op;
    c.solver = cell->solver;
    c.design = cell->design;
    c.group_size = cell->group_size;
    c.pairs_kind = cell->group_size >= 2 ? "coupled" : "independent";
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace ipbench
