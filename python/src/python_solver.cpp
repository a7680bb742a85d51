#include "python_solver.h"

#include <cstdio>
#include <map>
#include <set>
#include <type_traits>

#include <pybind11/stl.h>

#include "core/options.h"
#include "solvers/field_common.h"
#include "solvers/linear_algebra.h"

namespace ipbench::python {

namespace {

// A failure while solving one batch: the runner records it per batch (or stops the run, naming the cell).
[[noreturn]] void fail(const std::string& solver, const std::string& what) {
  TORCH_CHECK(false, "python solver '", solver, "': ", what);
  std::abort();  // unreachable
}

std::string shape_text(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// NoiseStream::uniform when the noise module has it (it arrives with issue 14's resampling solvers).
template <class S>
auto stream_uniform(S& s, at::IntArrayRef shape, int) -> decltype(s.uniform(shape)) {
  return s.uniform(shape);
}
template <class S>
at::Tensor stream_uniform(S&, at::IntArrayRef, long) {
  throw Error("noise.uniform: this build's NoiseStream has no uniform draws");
}

}  // namespace

void Alive::check(const char* what) const {
  if (!ok)
    throw Error(str_cat(what, " used after solve() returned: the problem and noise views live only during the ",
                        "solve() call that received them"));
}

// ---- prior --------------------------------------------------------------------------------------

at::Tensor PriorView::sigma_tensor(const at::Tensor& x, const py::object& sigma) const {
  if (THPVariable_Check(sigma.ptr())) return py::cast<at::Tensor>(sigma);
  const double s = py::cast<double>(sigma);
  return torch::full({x.size(0)}, s, x.options().requires_grad(false));
}

at::Tensor PriorView::denoise(const at::Tensor& x, const py::object& sigma) const {
  alive_->check("problem.prior");
  return prior_->predict(x, sigma_tensor(x, sigma)).x0;
}

py::tuple PriorView::predict(const at::Tensor& x, const py::object& sigma) const {
  alive_->check("problem.prior");
  Prediction p = prior_->predict(x, sigma_tensor(x, sigma));
  return py::make_tuple(p.x0, p.var_frac.defined() ? py::cast(p.var_frac) : py::none());
}

std::vector<int64_t> PriorView::image_shape() const {
  alive_->check("problem.prior");
  return prior_->image_shape();
}

std::string PriorView::describe() const {
  alive_->check("problem.prior");
  return prior_->describe();
}

// ---- operator -----------------------------------------------------------------------------------

const Operator& OperatorView::get() const {
  alive_->check("problem.op");
  return *op_;
}
at::Tensor OperatorView::forward(const at::Tensor& x) const { return get().forward(x); }
at::Tensor OperatorView::adjoint(const at::Tensor& y) const { return get().adjoint(y); }
at::Tensor OperatorView::normal(const at::Tensor& x) const { return get().normal(x); }
at::Tensor OperatorView::loss(const at::Tensor& ax, const at::Tensor& y) const { return get().loss(ax, y); }
bool OperatorView::linear() const { return get().linear(); }
std::vector<int64_t> OperatorView::measurement_shape() const { return get().measurement_shape(); }
std::string OperatorView::name() const { return get().name(); }
std::string OperatorView::describe() const { return get().describe(); }
double OperatorView::sigma_y() const { return assumed_sigma_y(-1.0, get()); }
std::string OperatorView::data_step_mode() const { return ipbench::data_step_mode(get()); }
at::Tensor OperatorView::pseudo_inverse(const at::Tensor& y, double cutoff, int64_t cg_iterations) const {
  return ipbench::pseudo_inverse(get(), y, cg_iterations, cutoff);
}
at::Tensor OperatorView::prox(const at::Tensor& y, const at::Tensor& z, double s2, double rho,
                              int64_t cg_iterations) const {
  return least_squares_prox(get(), y, z, s2, rho, cg_iterations);
}
at::Tensor OperatorView::gaussian_step(const at::Tensor& y, const at::Tensor& x, double sigma_y, double rho,
                                       NoiseView& noise, int64_t cg_iterations) const {
  return gaussian_data_step(get(), y, x, sigma_y, rho, noise.get(), cg_iterations);
}
at::Tensor OperatorView::langevin_step(const at::Tensor& y, const at::Tensor& x, double sigma_y, double rho2,
                                       double lr, int64_t steps, NoiseView& noise) const {
  return langevin_data_step(get(), y, x, sigma_y, rho2, lr, steps, noise.get());
}

// ---- noise --------------------------------------------------------------------------------------

NoiseStream& NoiseView::get() const {
  alive_->check("noise");
  return *stream_;
}

namespace {
void check_shape(const char* call, const std::vector<int64_t>& shape) {
  for (int64_t s : shape)
    require(s >= 1, call, "(", option_value(shape), "): every size must be >= 1 (the shape of ONE sample; the ",
            "stream adds the batch dimension G*K)");
}
}  // namespace

at::Tensor NoiseView::gaussian(const std::vector<int64_t>& shape) {
  check_shape("noise.gaussian", shape);
  return get().gaussian(shape);
}
at::Tensor NoiseView::uniform(const std::vector<int64_t>& shape) {
  check_shape("noise.uniform", shape);
  return stream_uniform(get(), shape, 0);
}
void NoiseView::skip() { get().skip(); }
int64_t NoiseView::batch_size() const { return get().batch_size(); }
int64_t NoiseView::group_size() const { return get().group_size(); }
int64_t NoiseView::draws() const { return get().draws(); }
std::string NoiseView::design() const { return get().design().describe(); }

// ---- the solver ---------------------------------------------------------------------------------

PyHandle hold(py::object o) {
  return PyHandle(new py::object(std::move(o)), [](py::object* p) {
    if (!Py_IsInitialized()) return;  // interpreter gone (process exit): leak rather than crash
    py::gil_scoped_acquire gil;
    delete p;
  });
}

std::string python_error_text(const py::error_already_set& e) {
  py::gil_scoped_acquire gil;
  std::string type = "Exception";
  try {
    type = py::cast<std::string>(e.type().attr("__name__"));
  } catch (...) {
  }
  std::string text;
  try {
    text = py::cast<std::string>(py::str(e.value()));
  } catch (...) {
  }
  return text.empty() ? type : type + ": " + text;
}

PythonSolver::PythonSolver(std::string name, PyHandle instance, Requirements requirements, int64_t nfe,
                           std::string description)
    : name_(std::move(name)),
      instance_(std::move(instance)),
      requirements_(requirements),
      nfe_(nfe),
      description_(std::move(description)) {}

SolveResult PythonSolver::solve(const Problem& problem, NoiseStream& noise) const {
  py::gil_scoped_acquire gil;
  auto alive = std::make_shared<Alive>();
  struct Expire {
    std::shared_ptr<Alive> a;
    ~Expire() { a->ok = false; }
  } expire{alive};
  const int64_t B = noise.batch_size();
  ProblemView view{PriorView(problem.prior, alive), OperatorView(problem.op, alive), problem.y};
  NoiseView noise_view(noise, alive);

  py::object out;
  try {
    out = instance_->attr("solve")(view, noise_view);
  } catch (py::error_already_set& e) {
    // Ctrl-C stops the run (the runner records other exceptions per batch, but rethrows Error).
    if (e.matches(PyExc_KeyboardInterrupt) || e.matches(PyExc_SystemExit))
      throw Error(str_cat("python solver '", name_, "': interrupted (", python_error_text(e), ")"));
    const std::string text = python_error_text(e);
    if (!traceback_shown_) {  // the first failure's traceback, for debugging; later ones are records only
      traceback_shown_ = true;
      std::fprintf(stderr, "python solver '%s' raised (traceback shown once; each failed batch is recorded):\n",
                   name_.c_str());
      std::fflush(stderr);
      e.restore();
      PyErr_Print();
    }
    fail(name_, "solve() raised " + text);
  } catch (const Error& e) {  // a view refused a call (bad draw shape, expired view)
    fail(name_, e.what());
  }

  py::object x_obj = out;
  int64_t nfe = nfe_;
  std::string used;
  if (!THPVariable_Check(out.ptr())) {
    x_obj = py::getattr(out, "x", py::none());
    py::object n = py::getattr(out, "nfe", py::none());
    if (!n.is_none()) {
      try {
        nfe = py::cast<int64_t>(n);
      } catch (const py::cast_error&) {
        fail(name_, "SolveResult.nfe must be an int (network evaluations per sample), got " +
                        py::cast<std::string>(py::repr(n)));
      }
      if (nfe < 0) fail(name_, "SolveResult.nfe = " + std::to_string(nfe) + ". Violated: nfe >= 0");
    }
    py::object u = py::getattr(out, "used", py::none());
    if (!u.is_none()) used = py::cast<std::string>(py::str(u));
  }
  if (!THPVariable_Check(x_obj.ptr()))
    fail(name_, "solve() returned " + py::cast<std::string>(py::repr(py::type::of(out))) +
                    " without a tensor x. Rule: solve() returns ipbench.SolveResult(x=<torch.Tensor [G*K, C, H, W]>)");
  at::Tensor x = py::cast<at::Tensor>(x_obj).detach();

  const auto image = problem.prior.image_shape();
  std::vector<int64_t> expected{B};
  expected.insert(expected.end(), image.begin(), image.end());
  bool shape_ok = x.dim() >= 1 && x.size(0) == B;
  if (shape_ok && !image.empty()) shape_ok = x.sizes().vec() == expected;
  if (!shape_ok)
    fail(name_, str_cat("solve() returned x of shape ", shape_text(x.sizes()), " for a batch of ", B,
                        " samples. Rule: one reconstruction per sample, x.shape == ",
                        image.empty() ? str_cat("[", B, ", ...]") : shape_text(expected),
                        " (noise.batch_size = G*K)"));
  if (x.scalar_type() != problem.y.scalar_type())
    fail(name_, str_cat("solve() returned x of dtype ", c10::toString(x.scalar_type()), " in a ",
                        c10::toString(problem.y.scalar_type()), " run. Rule: reconstructions have the run's dtype ",
                        "([benchmark] dtype; problem.y.dtype)"));
  if (x.device() != problem.y.device()) x = x.to(problem.y.device());

  SolveResult result;
  result.x = x;
  result.nfe = nfe;
  result.used = used;
  result.status = finite_status(x);
  int64_t bad = 0;
  for (auto s : result.status) bad += s != SampleStatus::kOk;
  if (bad > 0)
    std::fprintf(stderr,
                 "warning: python solver '%s' returned non-finite values in %lld of %lld samples; they are recorded "
                 "with status non_finite and NaN metrics (rule: every reconstruction value must be finite)\n",
                 name_.c_str(), static_cast<long long>(bad), static_cast<long long>(B));
  return result;
}

// ---- registration -------------------------------------------------------------------------------

namespace {

// The Python solvers of the current run, by name. The registry has no removal: a name, once
// registered, keeps an entry whose factory looks here, and unregistering empties the slot.
struct ActiveSolver {
  PyHandle cls;
  std::shared_ptr<std::vector<OptionSpec>> options;
  Requirements requirements;
};
std::map<std::string, ActiveSolver>& active_solvers() {
  static std::map<std::string, ActiveSolver> active;
  return active;
}
std::set<std::string>& python_names() {  // names whose registry entry is a Python trampoline
  static std::set<std::string> names;
  return names;
}

// Reads one option of kind `kind` from the section into a Python value; returns the resolved text.
py::object read_option(const Section& s, const OptionSpec& o, std::string& resolved) {
  auto one = [&](auto value) -> py::object {
    if (o.has_default && !o.default_value->is_none()) value = py::cast<decltype(value)>(*o.default_value);
    s.read(o.name, value);
    resolved = option_value(value);
    return py::cast(value);
  };
  if (o.kind == "bool") return one(false);
  if (o.kind == "int") return one(int64_t{0});
  if (o.kind == "float") return one(0.0);
  if (o.kind == "str") return one(std::string());
  if (o.kind == "list[str]") return one(std::vector<std::string>());
  if (o.kind == "list[float]") return one(std::vector<double>());
  if (o.kind == "list[int]") return one(std::vector<int64_t>());
  throw Error(str_cat("option '", o.name, "': unsupported kind ", o.kind));
}

}  // namespace

void register_python_solver(const std::string& name, const std::string& description, py::object cls,
                            std::vector<OptionSpec> options, bool linear_operator, bool item_batch) {
  register_builtin_solvers();
  auto& registry = solver_registry();
  const bool trampoline = python_names().count(name) > 0;
  require(!active_solvers().count(name) && (trampoline || !registry.contains(name)), "python solver class ",
          py::cast<std::string>(py::str(cls)), ": name '", name, "' is taken by ",
          trampoline ? "another python solver of this run" : "a registered solver",
          " (rule: solver names are unique; set the class attribute `name`)");
  Requirements req;
  req.linear_operator = linear_operator;
  req.item_batch = item_batch;
  std::vector<OptionDoc> docs;
  for (const auto& o : options)
    docs.push_back({o.name, o.kind, o.has_default ? py::cast<std::string>(py::str(*o.default_value)) : "(required)",
                    "keyword argument of __init__"});
  active_solvers()[name] =
      ActiveSolver{hold(std::move(cls)), std::make_shared<std::vector<OptionSpec>>(std::move(options)), req};
  if (trampoline) {
    // Same name, new class: refresh what the spec reads before building (the entry is ours).
    auto& entry = const_cast<SolverEntry&>(registry.get(name));
    entry.info = {name, description, docs};
    entry.requirements = req;
    return;
  }
  SolverEntry entry{{name, description, docs}, req, [name](const Section& s) -> std::unique_ptr<Solver> {
                      py::gil_scoped_acquire gil;
                      const std::string where = str_cat("config [", s.name(), "] (", s.origin(), "): python solver '",
                                                        name, "'");
                      auto it = active_solvers().find(name);
                      require(it != active_solvers().end(), where,
                              " is not part of this run (pass its class: ipbench.run(..., solvers=[...]))");
                      const auto& opts = *it->second.options;
                      std::set<std::string> known;
                      std::string accepted;
                      for (const auto& o : opts) {
                        known.insert(o.name);
                        accepted += (accepted.empty() ? "" : ", ") + o.name;
                      }
                      for (const auto& [key, e] : s.entries())
                        require(key == "type" || known.count(key), where, ": unknown option '", key, "' (", e.origin,
                                "); its __init__ accepts: ", accepted.empty() ? "no options" : accepted);
                      py::dict kwargs;
                      std::vector<std::pair<std::string, std::string>> resolved;
                      for (const auto& o : opts) {
                        require(s.has(o.name) || o.has_default, where, ": option '", o.name,
                                "' is required (its __init__ gives it no default)");
                        std::string text;
                        try {
                          kwargs[py::str(o.name)] = read_option(s, o, text);
                        } catch (const py::cast_error&) {
                          throw Error(str_cat(where, ": the default of option '", o.name, "' is not a ", o.kind));
                        }
                        resolved.emplace_back(o.name, text);
                      }
                      py::object instance;
                      int64_t nfe = 0;
                      std::string description;
                      try {
                        instance = (*it->second.cls)(**kwargs);
                        nfe = py::cast<int64_t>(instance.attr("nfe_per_sample")());
                        description = py::cast<std::string>(instance.attr("describe")());
                      } catch (py::error_already_set& e) {
                        throw Error(str_cat(where, ": ", python_error_text(e)));
                      } catch (const py::cast_error&) {
                        throw Error(str_cat(where, ": nfe_per_sample() must return an int and describe() a str"));
                      }
                      require(nfe >= 0, where, ": nfe_per_sample() = ", nfe, ". Violated: nfe_per_sample() >= 0");
                      for (const auto& [key, text] : resolved) s.resolve(key, text);
                      return std::make_unique<PythonSolver>(name, hold(std::move(instance)), it->second.requirements,
                                                            nfe, description);
                    }};
  registry.add(name, std::move(entry));
  python_names().insert(name);
}

void unregister_python_solver(const std::string& name) { active_solvers().erase(name); }

}  // namespace ipbench::python
