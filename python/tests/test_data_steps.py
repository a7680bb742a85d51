"""The shared data steps from Python (problem.op.gaussian_step, langevin_step, pseudo_inverse, prox):
examples/python/my_pnpdm.py, PnP-DM written on them, gives the built-in pnpdm's records (float64, iid and
antithetic) on a linear operator with an SVD (inpainting), one without a closed form (motion blur: CG)
and a nonlinear one (saturation: the Langevin step); the steps refuse a nonlinear operator by name."""
import pytest
import torch

import ipbench
from conftest import assert_same_records, tiny_config
from my_pnpdm import MyPnpdm

OPERATORS = ("inpaint", "blur", "sat")


def config(tmp, solvers="pnpdm, my_pnpdm", designs="iid, antithetic", items=2):
    """tiny_config (Gaussian prior, 32x32) in float64 on a linear operator with an SVD, one without a
    closed form and a nonlinear one, with PnP-DM cut to seconds."""
    pnpdm = "iterations = 3\nedm_steps = 6\nlangevin_steps = 4\nlangevin_lr = 1e-3\n"
    extra = ("[operator.blur]\ntype = motion_blur\nkernel_size = 5\n\n[operator.sat]\ntype = saturation\ngain = 2\n\n"
             f"[solver.pnpdm]\n{pnpdm}\n[solver.my_pnpdm]\n{pnpdm}")
    return tiny_config(tmp, solvers=solvers, designs=designs, dtype="float64", items=items, samples=2, extra=extra,
                       my_dps_section=False, operators=", ".join(OPERATORS))


def test_python_pnpdm_on_the_shared_data_steps_equals_builtin_pnpdm(tmp):
    out = tmp / "run"
    result = ipbench.run(config(tmp), out=out, solvers=[MyPnpdm], quiet=True)
    assert result.records == 3 * 2 * 2 * 2 * 2  # operators x solvers x designs x items x samples
    assert assert_same_records(out, "my_pnpdm", "pnpdm", ("l1", "residual"), rel=1e-12, abs_tol=1e-15) == 3 * 2 * 2 * 2 * 2


class Probe(ipbench.Solver):
    """Calls the data steps directly and checks them against their definitions."""

    name = "probe_steps"

    def __init__(self):
        pass

    def nfe_per_sample(self):
        return 0

    def solve(self, problem, noise):
        op, y = problem.op, problem.y
        shape = [noise.batch_size] + list(problem.prior.image_shape)
        if op.linear:
            assert op.data_step_mode() in ("svd", "projector", "cg")
            x = op.pseudo_inverse(y, cutoff=0.0)
            # A^+ y is a least-squares solution: A^T (A x - y) = 0; without a closed form, 100 CG iterations on
            # the ill-conditioned blur cut the normal residual from ||A^T y|| (x = 0) by over 100x.
            tol = 1e-2 if op.data_step_mode() == "cg" else 1e-10
            assert op.adjoint(op.forward(x) - y).abs().max().item() < tol * max(1.0, op.adjoint(y).abs().max().item())
            z = torch.zeros(shape, dtype=y.dtype)
            p = op.prox(y, z, s2=0.25, rho=2.0)
            # The prox's optimality: A^T (A p - y) / s2 + rho (p - z) = 0.
            assert (op.adjoint(op.forward(p) - y) / 0.25 + 2.0 * (p - z)).abs().max().item() < 1e-6
            before = noise.draws
            op.gaussian_step(y, z, sigma_y=0.1, rho=1.0, noise=noise)
            assert noise.draws > before  # its draws come from the run's stream
        else:
            with pytest.raises(Exception, match="nonlinear"):
                op.pseudo_inverse(y)
            with pytest.raises(Exception, match="nonlinear"):
                op.gaussian_step(y, torch.zeros(shape, dtype=y.dtype), sigma_y=0.1, rho=1.0, noise=noise)
        before = noise.draws
        z = op.langevin_step(y, torch.zeros(shape, dtype=y.dtype), sigma_y=0.1, rho2=1.0, lr=1e-4, steps=3, noise=noise)
        assert noise.draws == before + 3 and tuple(z.shape) == tuple(shape)
        assert op.sigma_y == pytest.approx(0.05)
        return ipbench.SolveResult(x=torch.zeros(shape, dtype=y.dtype), nfe=0, used="probe")


def test_data_steps_keep_their_definitions_and_refuse_nonlinear_operators(tmp):
    cfg = config(tmp, solvers="probe_steps", designs="iid", items=1)
    ipbench.run(cfg, out=tmp / "probe", solvers=[Probe], quiet=True)
    recs = ipbench.load_records(tmp / "probe", as_frame=False)
    assert len(recs) == 3 * 2 and all(r["status"] == "ok" for r in recs), [r["status"] for r in recs]
