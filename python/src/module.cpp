// _ipbench: the pybind11 module behind the `ipbench` Python package (docs/python.md). It binds the
// library and adds no benchmark logic of its own: runs go through parse_spec / run_benchmark, the
// statistics through stats/ and reports/, the files through harness/ (as the CLI does).
#include <torch/extension.h>

#include <filesystem>
#include <optional>

#include "core/config.h"
#include "core/options.h"
#include "core/runtime.h"
#include "harness/autocast_prior.h"
#include "harness/plan.h"
#include "harness/records.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "python_solver.h"
#include "reports/compare_report.h"
#include "reports/compare_runs.h"
#include "reports/leaderboard_files.h"
#include "reports/run_summary.h"
#include "reports/summary_report.h"
#include "solvers/ddpm_chain.h"
#include "solvers/plugin.h"
#include "stats/summary.h"

namespace py = pybind11;
namespace fs = std::filesystem;
using namespace ipbench;
using namespace ipbench::python;

namespace {

// summary.json / summary.md of a run folder (reports/run_summary.h); returns what `ipbench run`
// prints: the console table and the sample statuses.
std::string write_summary_text(const RunFolder& folder, RunInfo info, const std::vector<Record>* records = nullptr) {
  const SummaryOutcome out = write_summary(folder, std::move(info), records);
  std::string text = summary_table(out.summary);
  for (const auto& [status, n] : out.info.statuses)
    if (status != "ok") text += str_cat(n, " sample(s) with status ", status, "\n");
  if (!out.info.incomplete().empty()) text += out.info.incomplete() + "\n";
  return text;
}

// Appends the python solvers' names to [benchmark] solvers when the config does not list them.
void add_solvers(Config& config, const std::vector<std::string>& names) {
  const Section* bench = config.find_section("benchmark");
  std::vector<std::string> listed = BenchmarkOptions().solvers;
  if (bench && bench->find("solvers")) listed = split_list(bench->find("solvers")->value);
  bool changed = false;
  for (const auto& n : names)
    if (std::find(listed.begin(), listed.end(), n) == listed.end()) {
      listed.push_back(n);
      changed = true;
    }
  if (changed) config.set("benchmark.solvers=" + option_value(listed));
}

py::dict run(const std::string& config_path, const std::vector<std::string>& sets, const std::optional<std::string>& out,
             bool resume, bool progress, const std::vector<std::string>& python_solvers) {
  Config config = Config::from_file(config_path);
  for (const auto& s : sets) config.set(s);
  add_solvers(config, python_solvers);
  torch::AutoGradMode grad(true);  // solvers differentiate through the prior, even under torch.no_grad()
  // Constructs the Python solver objects (GIL held); the Spec, which holds them, is destroyed with the
  // GIL held too (after `release` below has re-acquired it).
  const Spec spec = parse_spec(std::move(config));
  configure_threads(static_cast<int>(spec.benchmark.threads), spec.benchmark.kernels == "deterministic");
  RunOptions ro;
  ro.out_dir = out ? *out : "runs/" + spec.benchmark.name;
  ro.resume = resume;
  ro.progress = progress;
  RunInfo info;
  info.name = spec.benchmark.name;
  info.context = context_line() + " (python)";
  info.device = resolve_device(spec.benchmark.device).str();
  info.dtype = dtype_with_precision(  // "float32, prior under bf16 autocast" (harness/autocast_prior.h)
      spec.benchmark.dtype,
      read_inference_precision(spec.config->section("benchmark"), spec.benchmark.device, spec.benchmark.dtype));
  info.seed = spec.benchmark.seed;
  RunFolder folder = RunFolder::open_for_writing(ro.out_dir);
  RunOutcome outcome;
  {
    py::gil_scoped_release release;  // python solvers take the GIL back in PythonSolver::solve
    outcome = run_benchmark(spec, Plan(spec, ro.shard), folder, ro);
  }
  info.seconds = outcome.seconds;
  py::dict r;
  r["table"] = write_summary_text(folder, info, &outcome.records);
  r["out"] = ro.out_dir;
  r["seconds"] = outcome.seconds;
  r["solved_samples"] = outcome.solved_samples;
  r["failed_batches"] = outcome.failed_batches;
  r["oom_splits"] = outcome.oom_splits;
  py::dict memory;  // [benchmark] memory_budget_mib: per cell, the probe and the batch size it gave
  for (const auto& [cell, m] : outcome.batch_memory) {
    py::dict d;
    d["probe_samples"] = m.probe_samples;
    d["probe_peak_bytes"] = m.probe_peak_bytes;
    d["samples_per_batch"] = m.groups_per_batch * m.group_size;
    d["largest_batch_samples"] = m.largest_batch_samples;
    d["largest_peak_bytes"] = m.largest_peak_bytes;
    memory[py::str(cell)] = d;
  }
  r["batch_memory"] = memory;
  r["records"] = static_cast<int64_t>(outcome.records.size());
  r["context"] = info.context;
  return r;
}

// Recomputes summary.json / summary.md of a stored run; returns the console table.
std::string summarize_run(const std::string& dir) {
  RunInfo info;
  info.context = context_line() + " (summarized from records)";
  return write_summary_text(RunFolder::open(dir), info);
}

py::list records_as_dicts(const std::string& dir) {
  const auto path = fs::is_directory(dir) ? run_file(dir, "records.csv") : dir;
  py::list out;
  for (const Record& r : read_records(path)) {
    py::dict d;
    d["cell"] = r.cell;
    d["operator"] = r.op;
    d["solver"] = r.solver;
    d["design"] = r.design;
    d["group_size"] = r.group_size;
    d["item"] = r.item;
    d["group"] = r.group;
    d["member"] = r.member;
    for (const auto& [m, v] : r.metrics) d[py::str(m)] = v;
    d["nfe"] = r.nfe;
    d["seconds"] = r.seconds;
    d["status"] = r.status;
    if (r.stage != 0) d["stage"] = r.stage;  // a run to a target precision: 1 pilot, 2 planned groups
    out.append(std::move(d));
  }
  return out;
}

py::dict compare(const std::string& baseline, const std::string& candidate, const std::map<std::string, double>& margins,
                 const std::vector<std::string>& metrics, double confidence) {
  RegressionOptions options;
  options.confidence = confidence;
  options.metrics = metrics;
  options.margins = margins;
  const RunComparison c = compare_run_folders(baseline, candidate, options);
  CompareInfo info{baseline, candidate, c.config_differences, c.common_random_numbers};
  py::dict r;
  r["passed"] = c.report.passed();
  r["gate"] = gate_line(c.report);
  r["json"] = compare_json(c.report, info);
  r["markdown"] = compare_markdown(c.report, info);
  return r;
}

py::dict load_plugin(const std::string& path) {
  const LoadedPlugin p = load_solver_plugin(path);
  py::dict r;
  r["path"] = p.path;
  r["name"] = p.name;
  r["ipbench_version"] = p.ipbench_version;
  r["torch_version"] = p.torch_version;
  r["solvers"] = p.solvers;
  return r;
}

}  // namespace

PYBIND11_MODULE(_ipbench, m) {
  m.doc() = "ipbench's C++ library (use the `ipbench` package, docs/python.md)";
  static py::exception<Error> error(m, "Error", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      error(e.what());
    }
  });
  m.attr("version") = ipbench_version();
  m.attr("torch_version") = torch_version();

  py::class_<PriorView>(m, "Prior", "the benchmark's prior (a denoiser in the VE convention x = x0 + sigma n)")
      .def("denoise", &PriorView::denoise, py::arg("x"), py::arg("sigma"),
           "x0_hat = D(x, sigma); x [B, C, H, W], sigma a float or a [B] tensor; differentiable in x")
      .def("predict", &PriorView::predict, py::arg("x"), py::arg("sigma"),
           "(x0_hat, var_frac): var_frac is the learned-range variance in [-1, 1] or None")
      .def_property_readonly("image_shape", &PriorView::image_shape, "[C, H, W] (empty when any shape works)")
      .def("describe", &PriorView::describe);
  py::class_<OperatorView>(m, "Operator", "the item's forward model y = A(x) + noise")
      .def("forward", &OperatorView::forward, py::arg("x"), "A(x): [B, C, H, W] -> [B, m...], differentiable")
      // adjoint and normal may run LibTorch's autograd engine (the VJP adjoint of operators without a
      // hand-written one, e.g. motion_blur), which refuses to run under the GIL: released here.
      .def("adjoint", &OperatorView::adjoint, py::call_guard<py::gil_scoped_release>(), py::arg("y"),
           "A^T y (linear operators)")
      .def("normal", &OperatorView::normal, py::call_guard<py::gil_scoped_release>(), py::arg("x"),
           "A^T A x (linear operators)")
      .def("loss", &OperatorView::loss, py::arg("ax"), py::arg("y"), "per-sample data fit [B]: ||y - ax||_2 by default")
      .def_property_readonly("linear", &OperatorView::linear)
      .def_property_readonly("measurement_shape", &OperatorView::measurement_shape)
      .def_property_readonly("name", &OperatorView::name)
      .def("describe", &OperatorView::describe)
      // The built-in solvers' data steps (solvers/linear_algebra.h): closed forms where the operator has
      // them (SVD, projector), else conjugate gradients; every draw from `noise`. C++ all the way down
      // (operators and priors are C++), so the GIL is released: LibTorch's autograd engine refuses to run
      // under it (the Langevin step's gradient).
      .def_property_readonly("sigma_y", &OperatorView::sigma_y,
                             "the measurement noise std in model units (0 for noise = none)")
      .def("data_step_mode", &OperatorView::data_step_mode,
           "'svd', 'projector' or 'cg': the form the linear data steps take on this operator")
      .def("pseudo_inverse", &OperatorView::pseudo_inverse, py::call_guard<py::gil_scoped_release>(), py::arg("y"), py::arg("cutoff") = 0.0,
           py::arg("cg_iterations") = 100,
           "A^+ y (linear operators); singular values below cutoff count as 0 (SVD and projector forms)")
      .def("prox", &OperatorView::prox, py::call_guard<py::gil_scoped_release>(), py::arg("y"), py::arg("z"), py::arg("s2"), py::arg("rho"),
           py::arg("cg_iterations") = 50, "argmin_x ||y - A x||^2 / s2 + rho ||x - z||^2 (linear operators)")
      .def("gaussian_step", &OperatorView::gaussian_step, py::call_guard<py::gil_scoped_release>(), py::arg("y"), py::arg("x"), py::arg("sigma_y"),
           py::arg("rho"), py::arg("noise"), py::arg("cg_iterations") = 50,
           "one exact draw z ~ N(S (A^T y / sigma_y^2 + x / rho^2), S), S = (A^T A / sigma_y^2 + I / rho^2)^-1 "
           "(linear operators; PnP-DM's likelihood step, DAPS's exact x0 step)")
      .def("langevin_step", &OperatorView::langevin_step, py::call_guard<py::gil_scoped_release>(), py::arg("y"), py::arg("x"), py::arg("sigma_y"),
           py::arg("rho2"), py::arg("lr"), py::arg("steps"), py::arg("noise"),
           "`steps` unadjusted Langevin steps from z = x towards exp(-||y - A(z)||^2/(2 sigma_y^2) - "
           "||z - x||^2/(2 rho2)) (any differentiable operator; PnP-DM's nonlinear likelihood step)");
  py::class_<ProblemView>(m, "Problem", "one item: problem.prior, problem.op, problem.y")
      .def_readonly("prior", &ProblemView::prior)
      .def_readonly("op", &ProblemView::op)
      .def_readonly("y", &ProblemView::y, "[1, m...] the measurement (broadcast over the batch)");
  py::class_<NoiseView>(m, "NoiseStream", "the batch's coupled random draws (the only randomness a solver may use)")
      .def("gaussian", &NoiseView::gaussian, py::arg("shape"),
           "next draw: [G*K, *shape] standard normals, coupled within each group by the design")
      .def("uniform", &NoiseView::uniform, py::arg("shape"),
           "next draw: [G*K, *shape] uniforms in (0, 1), coupled by the design (antithetic: u, 1 - u)")
      .def("skip", &NoiseView::skip, "skip one draw index (a draw the solver gives zero weight)")
      .def_property_readonly("batch_size", &NoiseView::batch_size, "G*K samples in this batch")
      .def_property_readonly("group_size", &NoiseView::group_size, "K members per coupled group")
      .def_property_readonly("draws", &NoiseView::draws, "draw indices used so far")
      .def_property_readonly("design", &NoiseView::design);

  py::class_<DdpmChain::Step>(m, "DdpmStep")
      .def_readonly("abar", &DdpmChain::Step::abar)
      .def_readonly("sigma", &DdpmChain::Step::sigma)
      .def_readonly("coef_x0", &DdpmChain::Step::coef_x0)
      .def_readonly("coef_xt", &DdpmChain::Step::coef_xt)
      .def_readonly("log_beta", &DdpmChain::Step::log_beta)
      .def_readonly("log_btilde_clipped", &DdpmChain::Step::log_btilde_clipped)
      .def_readonly("log_fixed_large", &DdpmChain::Step::log_fixed_large);
  py::class_<DdpmChain>(m, "DdpmChain", "the respaced DDPM chain of dps / ddpm (solvers/ddpm_chain.h)")
      .def(py::init([](int64_t steps, int64_t T, double beta_start, double beta_end, const std::string& variance,
                       bool clip_denoised) {
             DdpmChainOptions o;
             o.steps = steps;
             o.vp.T = T;
             o.vp.beta_start = beta_start;
             o.vp.beta_end = beta_end;
             o.variance = variance;
             o.clip_denoised = clip_denoised;
             return DdpmChain(o);
           }),
           py::arg("steps") = 1000, py::arg("T") = 1000, py::arg("beta_start") = 1e-4, py::arg("beta_end") = 0.02,
           py::arg("variance") = "auto", py::arg("clip_denoised") = true)
      .def("__len__", &DdpmChain::size)
      .def("step", &DdpmChain::step, py::arg("k"), py::return_value_policy::copy,
           "constants of step k (0 = the last, least noisy step)");

  m.def("run", &run, py::arg("config"), py::arg("sets"), py::arg("out"), py::arg("resume"), py::arg("progress"),
        py::arg("python_solvers"));
  m.def("summarize", &summarize_run, py::arg("run_dir"));
  m.def("read_records", &records_as_dicts, py::arg("run_dir"));
  m.def("compare", &compare, py::arg("baseline"), py::arg("candidate"), py::arg("margins"), py::arg("metrics"),
        py::arg("confidence"));
  m.def(
      "report",
      [](const std::vector<std::string>& runs, const std::string& out, const std::string& metric, int64_t images,
         const std::string& title, const std::vector<std::string>& designs) {
        ReportOptions o;
        o.primary = metric;
        o.images_per_cell = images;
        o.title = title;
        o.designs = designs;
        return write_report(runs, out, o);
      },
      py::arg("runs"), py::arg("out"), py::arg("metric"), py::arg("images"), py::arg("title"), py::arg("designs"));
  m.def("load_plugin", &load_plugin, py::arg("path"));
  m.def(
      "register_python_solver",
      [](const std::string& name, const std::string& description, py::object cls, py::list options,
         bool linear_operator, bool item_batch) {
        std::vector<OptionSpec> specs;
        for (const auto& item : options) {
          auto t = item.cast<py::tuple>();  // (name, kind, has_default, default)
          specs.push_back({t[0].cast<std::string>(), t[1].cast<std::string>(), t[2].cast<bool>(),
                           hold(py::reinterpret_borrow<py::object>(t[3]))});
        }
        register_python_solver(name, description, std::move(cls), std::move(specs), linear_operator, item_batch);
      },
      py::arg("name"), py::arg("description"), py::arg("cls"), py::arg("options"), py::arg("linear_operator"),
      py::arg("item_batch") = false);
  m.def("unregister_python_solver", &unregister_python_solver, py::arg("name"));
  m.def("solver_names", [] {
    register_builtins();
    return solver_registry().names();
  });
}
