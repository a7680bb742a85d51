"""DPS (Chung et al., ICLR 2023) in Python: the ipbench.Solver example of docs/python.md.

Run it beside the built-in `dps` on the same measurements and the same coupled noise:
    PYTHONPATH=build/python /usr/bin/python3 examples/python/my_dps.py
"""
import math

import torch

import ipbench


class MyDps(ipbench.Solver):
    """DPS on the respaced DDPM chain (variance: learned_range when the prior has one, else fixed_small)."""

    name = "my_dps"
    requirements = ipbench.Requirements(linear_operator=False)

    def __init__(self, zeta: float = 0.3, steps: int = 100):
        self.zeta, self.steps = zeta, steps
        self.chain = ipbench.DdpmChain(steps=steps)  # linear betas, T = 1000, respaced to `steps`

    def nfe_per_sample(self):
        return self.steps

    def solve(self, problem, noise):
        shape = problem.prior.image_shape                        # [C, H, W]
        x = noise.gaussian(shape).to(problem.y)                  # z_T: draw 0, [G*K, C, H, W]
        for k in reversed(range(len(self.chain))):
            s = self.chain.step(k)
            x.requires_grad_(True)
            sigma = torch.full((x.shape[0],), s.sigma, dtype=x.dtype, device=x.device)
            x0, v = problem.prior.predict(x / math.sqrt(s.abar), sigma)  # v: learned variance or None
            x0 = x0.clamp(-1.0, 1.0)
            loss = problem.op.loss(problem.op.forward(x0), problem.y)   # ||y - A(x0)||_2 per sample
            (grad,) = torch.autograd.grad(loss.sum(), x)
            with torch.no_grad():
                x_prev = s.coef_x0 * x0 + s.coef_xt * x              # posterior mean mu_k(x0, x)
                if k > 0 and v is None:                              # fixed_small variance
                    std = torch.full((1,), math.exp(0.5 * s.log_btilde_clipped), dtype=x.dtype, device=x.device)
                elif k > 0:                                          # learned_range (guided-diffusion)
                    frac = (v + 1.0) / 2.0
                    std = torch.exp(0.5 * (frac * s.log_beta + (1.0 - frac) * s.log_btilde_clipped))
                if k > 0:
                    x_prev = x_prev + std * noise.gaussian(shape).to(x)
                else:
                    noise.skip()                                     # the k = 0 draw has weight 0
                x = (x_prev - self.zeta * grad).detach()
        return ipbench.SolveResult(x=x, nfe=self.steps, used=f"my_dps steps {self.steps}, zeta {self.zeta}")


if __name__ == "__main__":
    result = ipbench.run("configs/python-dps.ini", out="runs/python-dps", solvers=[MyDps])
    records = ipbench.load_records(result.out, as_frame=False)
    print(len(records), "records;", sum(r["status"] == "ok" for r in records), "ok")
