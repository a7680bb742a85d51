#!/usr/bin/env python3
"""The Python PyTorch baseline of bench/bench_solvers: DPS and DDS written as plain per-step loops, the way
the official code runs them (DPS: Chung et al. 2023, guided_diffusion/gaussian_diffusion.py + the
posterior-sampling conditioning; DDS: Chung, Lee & Ye 2024, CG on (I + gamma A^T A)), on the same
TorchScript UNet that ipbench loads, with box inpainting (A = mask, A^T A = mask).

Same arithmetic per step as ipbench's solvers (solvers/dps.cpp, solvers/dds.cpp): one network forward
(DDS, no gradient) or forward + backward through the network (DPS), the learned-range variance, 5 CG
iterations with per-sample inner products. Noise is torch.randn on the device, as in the official code.

Prints one line per (solver, batch): `loop SOLVER batch B step_ms T peak_mib M` where T is the median of
`--reps` timed runs of `--steps` steps (after a warm-up run of 2 steps) divided by the steps, and M the
peak CUDA memory (0 on the CPU).

  python3 scripts/bench_solvers_loop.py --model unet64.pt --size 64 --batches 1,16 --steps 10 --device cuda
"""
import argparse
import math
import time

import torch


def linear_schedule(T=1000, beta_start=1e-4, beta_end=0.02):
    betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, 0)


def respaced(T, steps):
    if steps == 1:
        return [0]
    stride = (T - 1) / (steps - 1)
    return sorted({int(round(i * stride)) for i in range(steps)})


class Problem:
    def __init__(self, size, batch, device):
        g = torch.Generator().manual_seed(0)
        self.mask = torch.ones(1, 3, size, size, device=device)
        b = size // 2
        self.mask[:, :, size // 4: size // 4 + b, size // 4: size // 4 + b] = 0
        x = torch.tanh(torch.randn(1, 3, size, size, generator=g)).to(device)
        self.y = (self.mask * x + 0.05 * torch.randn(1, 3, size, size, generator=g).to(device)) * self.mask
        self.batch, self.size, self.device = batch, size, device

    def A(self, x):
        return self.mask * x


def dps(model, prob, steps, zeta=0.3):
    abar = linear_schedule()
    ts = respaced(1000, steps)
    x = torch.randn(prob.batch, 3, prob.size, prob.size, device=prob.device)
    for k in range(len(ts) - 1, -1, -1):
        a = abar[ts[k]].item()
        a_prev = abar[ts[k - 1]].item() if k > 0 else 1.0
        beta = 1 - a / a_prev
        btilde = beta * (1 - a_prev) / (1 - a)
        t = torch.full((prob.batch,), float(ts[k]), device=prob.device)
        x = x.requires_grad_(True)
        out = model(x, t)
        eps, v = out[:, :3], out[:, 3:]
        x0 = ((x - math.sqrt(1 - a) * eps) / math.sqrt(a)).clamp(-1, 1)
        mean = beta * math.sqrt(a_prev) / (1 - a) * x0 + (1 - a_prev) * math.sqrt(1 - beta) / (1 - a) * x
        if k > 0:
            frac = (v + 1) / 2
            logvar = frac * math.log(beta) + (1 - frac) * math.log(max(btilde, 1e-20))
            mean = mean + torch.exp(0.5 * logvar) * torch.randn_like(x)
        loss = torch.linalg.norm((prob.y - prob.A(x0)).flatten(1), dim=1).sum()
        grad = torch.autograd.grad(loss, x)[0]
        x = (mean - zeta * grad).detach()
    return x


def cg(apply, b, x, iterations, tol):
    r = b - apply(x)
    p = r.clone()
    rs = (r * r).flatten(1).sum(1)
    for _ in range(iterations):
        active = (rs.sqrt() >= tol).to(b.dtype).view(-1, 1, 1, 1)
        Ap = apply(p)
        alpha = rs / (p * Ap).flatten(1).sum(1).clamp_min(1e-30)
        x = x + active * alpha.view(-1, 1, 1, 1) * p
        r = r - active * alpha.view(-1, 1, 1, 1) * Ap
        rs_new = (r * r).flatten(1).sum(1)
        p = r + (rs_new / rs.clamp_min(1e-30)).view(-1, 1, 1, 1) * p
        rs = rs_new
    return x


@torch.no_grad()
def dds(model, prob, steps, eta=0.85, gamma=1.0, cg_iterations=5, tol=1e-5):
    abar = linear_schedule()
    skip = 1000 // steps
    ts = [k * skip for k in range(steps)]
    x = torch.randn(prob.batch, 3, prob.size, prob.size, device=prob.device)
    for k in range(steps - 1, -1, -1):
        a = abar[ts[k]].item()
        t = torch.full((prob.batch,), float(ts[k]), device=prob.device)
        eps = model(x, t)[:, :3]
        x0 = (x - math.sqrt(1 - a) * eps) / math.sqrt(a)
        b = x0 + gamma * prob.mask * prob.y
        x0c = cg(lambda v: v + gamma * prob.mask * v, b, x0, cg_iterations, tol)
        if k > 0:
            a_prev = abar[ts[k - 1]].item()
            z = torch.randn_like(x)
            x = math.sqrt(a_prev) * x0c + math.sqrt(1 - a_prev) * (eta * z + math.sqrt(1 - eta ** 2) * eps)
        else:
            x = x0c
    return x


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--batches", default="4", help="comma-separated batch sizes")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--reps", type=int, default=1)
    p.add_argument("--solvers", default="dps,dds")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = default)")
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model = torch.jit.load(args.model, map_location=args.device).eval()
    for batch in [int(b) for b in args.batches.split(",")]:
        prob = Problem(args.size, batch, args.device)
        for solver in args.solvers.split(","):
            run = {"dps": dps, "dds": dds}[solver]
            run(model, prob, 2)  # warm-up: JIT profiling runs, cuDNN algorithm choice
            sync(args.device)
            if args.device.startswith("cuda"):
                torch.cuda.reset_peak_memory_stats()
            times = []
            for _ in range(args.reps):
                start = time.perf_counter()
                x = run(model, prob, args.steps)
                sync(args.device)
                times.append(time.perf_counter() - start)
                assert torch.isfinite(x).all()
            peak = torch.cuda.max_memory_allocated() / 2 ** 20 if args.device.startswith("cuda") else 0.0
            times.sort()
            print(f"loop {solver} batch {batch} step_ms {1e3 * times[len(times) // 2] / args.steps:.4f} "
                  f"peak_mib {peak:.1f}", flush=True)


if __name__ == "__main__":
    main()
