"""PnP-DM (Wu et al., NeurIPS 2024) in Python, on ipbench's shared data steps (docs/python.md).

The likelihood step is `problem.op.gaussian_step` on linear operators (an exact draw: closed form through
the operator's SVD or projector, else perturb-then-optimise CG) and `problem.op.langevin_step` on
nonlinear ones (the official Langevin step); the prior step is the EDM reverse SDE written here. On the
same config it gives the records of the built-in `pnpdm` (python/tests/test_data_steps.py).

    PYTHONPATH=build/python /usr/bin/python3 examples/python/my_pnpdm.py
"""
import math

import ipbench


def karras(n, sigma_min, sigma_max, rho=7.0):
    """n levels from sigma_max down to sigma_min (EDM), the ends exact."""
    a, b = sigma_max ** (1.0 / rho), sigma_min ** (1.0 / rho)
    s = [(a + i / (n - 1) * (b - a)) ** rho for i in range(n)]
    s[0], s[-1] = sigma_max, sigma_min
    return s


class MyPnpdm(ipbench.Solver):
    """Split Gibbs: z | x from the data, then x | z by the reverse SDE from rho to 0; rho annealed."""

    name = "my_pnpdm"
    requirements = ipbench.Requirements(item_batch=True)  # y and the operator are used per sample

    def __init__(self, iterations: int = 100, rho0: float = 10.0, decay: float = 0.9, rho_min: float = 0.3,
                 edm_steps: int = 100, sigma_max: float = 80.0, sigma_min: float = 0.002,
                 langevin_steps: int = 100, langevin_lr: float = 1e-4):
        self.iterations, self.rho0, self.decay, self.rho_min = iterations, rho0, decay, rho_min
        self.levels = karras(edm_steps, sigma_min, sigma_max)
        self.langevin_steps, self.langevin_lr = langevin_steps, langevin_lr

    def rhos(self):
        return [max(self.rho0 * self.decay ** k, self.rho_min) for k in range(self.iterations)]

    def grid(self, rho):
        return [rho] + [s for s in self.levels if s < rho] + [0.0]

    def nfe_per_sample(self):
        return sum(len(self.grid(rho)) - 1 for rho in self.rhos())

    def solve(self, problem, noise):
        op, y, shape = problem.op, problem.y, problem.prior.image_shape
        sy = op.sigma_y
        if sy <= 0:
            raise ValueError(f"my_pnpdm needs sigma_y > 0; operator '{op.name}' is noiseless")
        if op.linear:
            x = y.new_zeros([noise.batch_size] + list(shape))
        else:
            x = noise.gaussian(shape).to(y)  # the official phase retrieval's initialize
        for rho in self.rhos():
            if op.linear:
                x = op.gaussian_step(y, x, sigma_y=sy, rho=rho, noise=noise)
            else:
                x = op.langevin_step(y, x, sigma_y=sy, rho2=rho * rho, lr=self.langevin_lr,
                                     steps=self.langevin_steps, noise=noise)
            grid = self.grid(rho)
            for s, sn in zip(grid[:-1], grid[1:]):
                x = x + (sn - s) * 2.0 * (x - problem.prior.denoise(x, s)) / s
                if sn > 0:
                    x = x + math.sqrt(2 * s * (s - sn)) * noise.gaussian(shape).to(y)
        return ipbench.SolveResult(x=x, nfe=self.nfe_per_sample(),
                                   used=f"my_pnpdm {self.iterations} iterations, sigma_y {sy}")


if __name__ == "__main__":
    # Beside the built-in pnpdm on the shipped prior, cut to 10 iterations on a 20-level grid (seconds).
    cut = {"iterations": 10, "decay": 0.7, "edm_steps": 20}
    overrides = {"benchmark.solvers": "pnpdm, my_pnpdm"}
    overrides.update({f"solver.{s}.{k}": v for s in ("pnpdm", "my_pnpdm") for k, v in cut.items()})
    result = ipbench.run("configs/python-dps.ini", out="runs/python-pnpdm", solvers=[MyPnpdm], overrides=overrides)
    records = ipbench.load_records(result.out, as_frame=False)
    print(len(records), "records;", sum(r["status"] == "ok" for r in records), "ok")
