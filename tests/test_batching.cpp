// Batches across items (issue 17): a NoiseStream over several items' group ranges and an
// ItemBatchOperator over their operators give every sample exactly what a per-item batch gives.
#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"
#include "models/denoiser.h"
#include "noise/designs.h"
#include "noise/noise_stream.h"
#include "operators/item_batch.h"
#include "operators/operator.h"
#include "solvers/dds.h"
#include "solvers/dps.h"

using namespace ipbench;

namespace {

std::shared_ptr<const NoiseDesign> make_design(const std::string& name, const std::string& options = "") {
  register_builtin_designs();
  const auto cfg = Config::from_string("[noise]\n" + options, "test");
  return design_registry().get(name).make(cfg.section("noise"));
}

std::unique_ptr<Operator> make_op(const std::string& ini, uint64_t key) {
  register_builtin_operators();
  const auto cfg = Config::from_string("[op]\n" + ini, "test");
  std::string type;
  cfg.section("op").read("type", type);
  return operator_registry().get(type).parse(cfg.section("op"))(
      OperatorContext{{1, 8, 8}, key, torch::kCPU, torch::kDouble});
}

std::shared_ptr<Denoiser> gaussian_prior() {
  register_builtin_priors();
  const auto cfg = Config::from_string("[prior]\ntype = gaussian\nmean = 0.1\nvariance = 0.3\n", "test");
  PriorContext pc;
  pc.dtype = torch::kDouble;
  pc.image_shape = {1, 8, 8};
  return prior_registry().get("gaussian").make(cfg.section("prior"), pc);
}

}  // namespace

TEST_CASE("batching: a stream across items equals the per-item streams, draw by draw", "[batching][noise]") {
  for (const auto& [name, options] : std::vector<std::pair<std::string, std::string>>{
           {"iid", ""}, {"antithetic", ""}, {"repulsive", "K = 3\n"}, {"rqmc", "m = 2\ns = 4\n"}}) {
    INFO(name);
    const auto design = make_design(name, options);
    NoiseStream a(design, 11, 0, 2), b(design, 22, 1, 3);
    NoiseStream both(design, {{11, 0, 2}, {22, 1, 3}});
    CHECK(both.batch_size() == a.batch_size() + b.batch_size());
    for (int draw = 0; draw < 3; ++draw) {
      const auto expected = torch::cat({a.gaussian({1, 8, 8}), b.gaussian({1, 8, 8})}, 0);
      CHECK(torch::equal(both.gaussian({1, 8, 8}), expected));
    }
    // Uniform draws share the draw counter and split by segment the same way.
    const auto expected_u = torch::cat({a.uniform({1, 8, 8}), b.uniform({1, 8, 8})}, 0);
    CHECK(torch::equal(both.uniform({1, 8, 8}), expected_u));
  }
}

TEST_CASE("batching: ItemBatchOperator applies each item's operator to its samples", "[batching][operators]") {
  const auto op1 = make_op("type = inpaint\nmode = random\nsigma_y = 0.05\n", 1);
  const auto op2 = make_op("type = inpaint\nmode = random\nsigma_y = 0.05\n", 2);
  const ItemBatchOperator batch({op1.get(), op2.get()}, {2, 3});
  const auto x = keyed_normal({5, 1, 8, 8}, 3, torch::kDouble);
  const auto y = keyed_normal({5, 1, 8, 8}, 4, torch::kDouble);
  CHECK(torch::equal(batch.forward(x), torch::cat({op1->forward(x.narrow(0, 0, 2)), op2->forward(x.narrow(0, 2, 3))})));
  CHECK(torch::equal(batch.adjoint(y), torch::cat({op1->adjoint(y.narrow(0, 0, 2)), op2->adjoint(y.narrow(0, 2, 3))})));
  CHECK(torch::equal(batch.loss(x, y), torch::cat({op1->loss(x.narrow(0, 0, 2), y.narrow(0, 0, 2)),
                                                   op2->loss(x.narrow(0, 2, 3), y.narrow(0, 2, 3))})));
  // The masks differ, so the items really are apart.
  CHECK_FALSE(torch::equal(op1->forward(x.narrow(0, 0, 1)), op2->forward(x.narrow(0, 0, 1))));
  const auto ys = batch.stack_measurements({y.narrow(0, 0, 1), y.narrow(0, 4, 1)});
  CHECK(ys.size(0) == 5);
  CHECK(torch::equal(ys[1], y[0]));
  CHECK(torch::equal(ys[2], y[4]));
  CHECK_THROWS_AS(ItemBatchOperator({op1.get(), nullptr}, {1, 1}), Error);
  CHECK_THROWS_AS(ItemBatchOperator({op1.get(), op2.get()}, {1, 0}), Error);
  CHECK_THROWS_AS(ItemBatchOperator({op1.get()}, {1, 1}), Error);
}

TEST_CASE("batching: DPS and DDS on a batch across items give each sample its per-item result", "[batching][solvers]") {
  const auto prior = gaussian_prior();
  const auto design = make_design("antithetic");
  const std::vector<uint64_t> keys{101, 202};
  std::vector<std::unique_ptr<Operator>> ops;
  std::vector<torch::Tensor> ys;
  for (uint64_t k : {7, 8}) {
    ops.push_back(make_op("type = inpaint\nmode = random\nsigma_y = 0.05\n", k));
    const auto x = 0.5 * torch::tanh(keyed_normal({1, 1, 8, 8}, k + 50, torch::kDouble));
    ys.push_back(ops.back()->forward(x).detach());
  }
  const ItemBatchOperator batch_op({ops[0].get(), ops[1].get()}, {4, 4});  // 2 groups of K = 2 per item
  const auto y = batch_op.stack_measurements(ys);

  DpsOptions dps_o;
  dps_o.chain.steps = 8;
  DdsOptions dds_o;
  dds_o.steps = 8;
  const DpsSolver dps(dps_o);
  const DdsSolver dds(dds_o);
  for (const Solver* solver : {static_cast<const Solver*>(&dps), static_cast<const Solver*>(&dds)}) {
    INFO(solver->describe());
    std::vector<torch::Tensor> per_item;
    for (size_t i = 0; i < 2; ++i) {
      NoiseStream noise(design, keys[i], 0, 2, torch::kCPU, torch::kDouble);
      per_item.push_back(solver->solve(Problem{*prior, *ops[i], ys[i]}, noise).x.detach());
    }
    NoiseStream noise(design, {{keys[0], 0, 2}, {keys[1], 0, 2}}, torch::kCPU, torch::kDouble);
    const auto together = solver->solve(Problem{*prior, batch_op, y}, noise).x.detach();
    const auto expected = torch::cat(per_item, 0);
    CHECK((together - expected).abs().max().item<double>() <= 1e-12);
    CHECK_FALSE(torch::equal(per_item[0], per_item[1]));
  }
}
