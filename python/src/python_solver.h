#pragma once
// The C++ side of Python solvers (docs/python.md): views of a Problem and a NoiseStream that Python
// code calls during solve(), and PythonSolver, the ipbench::Solver that calls a Python object.
//
// GIL: the runner runs with the GIL released (ipbench.run releases it); PythonSolver::solve takes it
// for the whole call, so the Python solver and the C++ prior/operator it calls run on the runner's
// thread, with its autograd state (tensors cross as torch.Tensor, graphs intact).
// Lifetime: the views point into the runner's objects, which live only during solve(); every view
// shares one "alive" flag that solve() clears on return, so a view kept by the solver raises instead
// of touching freed memory.
#include <torch/extension.h>

#include <memory>
#include <string>
#include <vector>

#include "solvers/solver.h"

namespace ipbench::python {

namespace py = pybind11;

/// Cleared when the solve() call that created the views returns.
struct Alive {
  bool ok = true;
  void check(const char* what) const;
};

class PriorView {
 public:
  PriorView(const Denoiser& prior, std::shared_ptr<Alive> alive) : prior_(&prior), alive_(std::move(alive)) {}
  /// x0_hat = D(x, sigma); sigma: a float, a 0-dim tensor or a [B] tensor (VE convention).
  at::Tensor denoise(const at::Tensor& x, const py::object& sigma) const;
  /// (x0_hat, var_frac or None).
  py::tuple predict(const at::Tensor& x, const py::object& sigma) const;
  std::vector<int64_t> image_shape() const;
  std::string describe() const;

 private:
  at::Tensor sigma_tensor(const at::Tensor& x, const py::object& sigma) const;
  const Denoiser* prior_;
  std::shared_ptr<Alive> alive_;
};

class NoiseView;

class OperatorView {
 public:
  OperatorView(const Operator& op, std::shared_ptr<Alive> alive) : op_(&op), alive_(std::move(alive)) {}
  at::Tensor forward(const at::Tensor& x) const;
  at::Tensor adjoint(const at::Tensor& y) const;
  at::Tensor normal(const at::Tensor& x) const;
  at::Tensor loss(const at::Tensor& ax, const at::Tensor& y) const;
  bool linear() const;
  std::vector<int64_t> measurement_shape() const;
  std::string name() const;
  std::string describe() const;
  // The shared data steps (solvers/linear_algebra.h), so Python solvers get the closed forms too.
  /// The measurement noise std in model units (0 when the operator's noise is none).
  double sigma_y() const;
  std::string data_step_mode() const;
  at::Tensor pseudo_inverse(const at::Tensor& y, double cutoff, int64_t cg_iterations) const;
  at::Tensor prox(const at::Tensor& y, const at::Tensor& z, double s2, double rho, int64_t cg_iterations) const;
  at::Tensor gaussian_step(const at::Tensor& y, const at::Tensor& x, double sigma_y, double rho, NoiseView& noise,
                           int64_t cg_iterations) const;
  at::Tensor langevin_step(const at::Tensor& y, const at::Tensor& x, double sigma_y, double rho2, double lr,
                           int64_t steps, NoiseView& noise) const;

 private:
  const Operator& get() const;
  const Operator* op_;
  std::shared_ptr<Alive> alive_;
};

class NoiseView {
 public:
  NoiseView(NoiseStream& stream, std::shared_ptr<Alive> alive) : stream_(&stream), alive_(std::move(alive)) {}
  /// The next draw index as coupled standard normals [G*K, *shape] (NoiseStream::gaussian).
  at::Tensor gaussian(const std::vector<int64_t>& shape);
  /// The next draw index as coupled uniforms in (0, 1) [G*K, *shape] (NoiseStream::uniform).
  at::Tensor uniform(const std::vector<int64_t>& shape);
  void skip();
  int64_t batch_size() const;
  int64_t group_size() const;
  int64_t draws() const;
  std::string design() const;
  /// The stream itself (raises once solve() has returned), for the data steps of OperatorView.
  NoiseStream& get() const;

 private:
  NoiseStream* stream_;
  std::shared_ptr<Alive> alive_;
};

struct ProblemView {
  PriorView prior;
  OperatorView op;
  at::Tensor y;
};

/// Holds a Python object; releases it with the GIL held, whoever drops the last reference.
using PyHandle = std::shared_ptr<py::object>;
PyHandle hold(py::object o);

/// An ipbench::Solver backed by an instance of a Python ipbench.Solver subclass.
class PythonSolver : public Solver {
 public:
  PythonSolver(std::string name, PyHandle instance, Requirements requirements, int64_t nfe, std::string description);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override { return requirements_; }
  int64_t nfe_per_sample() const override { return nfe_; }
  std::string describe() const override { return description_; }

 private:
  std::string name_;
  PyHandle instance_;
  Requirements requirements_;
  int64_t nfe_;
  std::string description_;
  mutable bool traceback_shown_ = false;
};

/// One option of a Python solver's __init__: name, kind (bool | int | float | str | list[str] |
/// list[float] | list[int]), and its default when it has one.
struct OptionSpec {
  std::string name, kind;
  bool has_default = false;
  std::shared_ptr<py::object> default_value;  ///< a hold()-ed Python object (None without a default)
};

/// Registers the Python solver class `cls` (checked by ipbench.Solver's helpers) as solver `name`, with
/// its Requirements (linear_operator, item_batch). Error when the name is taken.
void register_python_solver(const std::string& name, const std::string& description, py::object cls,
                            std::vector<OptionSpec> options, bool linear_operator, bool item_batch = false);
/// Ends a Python solver's registration (its registry entry stays, inert: the registry has no removal;
/// building it then is an Error saying it is not part of the run). No-op for other names.
void unregister_python_solver(const std::string& name);

/// "ValueError: message" of the Python exception in flight.
std::string python_error_text(const py::error_already_set& e);

}  // namespace ipbench::python
