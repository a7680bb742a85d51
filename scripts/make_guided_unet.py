#!/usr/bin/env python3
"""Writes a guided-diffusion-architecture UNet with random weights as TorchScript, for bench/bench_solvers.

The architecture is OpenAI guided-diffusion's UNetModel (Dhariwal & Nichol 2021, "ADM") as configured by
DPS for FFHQ 256 (Chung et al. 2023, configs/model_config.yaml): num_channels 128, num_res_blocks 1,
attention at 16x16 with 64-channel heads, use_scale_shift_norm, resblock_updown, learn_sigma (6 output
channels = eps and the learned-range variance), GroupNorm(32) + SiLU. channel_mult follows
guided-diffusion's defaults per image size: 256 -> 1,1,2,2,4,4; 128 -> 1,1,2,3,4; 64 -> 1,2,3,4. Written
from the paper's description; nothing is copied. The weights are PyTorch's default initialization (seeded):
only the speed matters (the output convolution is NOT zeroed, so the network does real work).

Contract of ipbench's `torchscript` prior (docs/priors.md): forward(x, t) with x [B, 3, H, W], t a float
tensor [B] of timesteps in [0, 999]; output [B, 6, H, W].

  /usr/bin/python3 scripts/make_guided_unet.py --size 256 --out models/bench/unet256.pt [--channels 128]

Works with Debian's python3-torch 1.13 (CPU) and PyTorch 2.x (GPU machine): the module is traced.
"""
import argparse
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CHANNEL_MULT = {64: (1, 2, 3, 4), 128: (1, 1, 2, 3, 4), 256: (1, 1, 2, 2, 4, 4)}


def norm(ch):
    return nn.GroupNorm(32, ch)


def timestep_frequencies(dim, max_period=10000.0):
    half = dim // 2
    return torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)


def timestep_embedding(t, freqs):
    # freqs is a buffer of the module: a tensor made here would be traced as a CPU constant and
    # break the model on the GPU.
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, ch, emb_ch, out_ch, up=False, down=False):
        super().__init__()
        self.in_norm = norm(ch)
        self.in_conv = nn.Conv2d(ch, out_ch, 3, padding=1)
        self.up, self.down = up, down
        self.emb = nn.Linear(emb_ch, 2 * out_ch)  # scale and shift (use_scale_shift_norm)
        self.out_norm = norm(out_ch)
        self.out_conv = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Identity() if out_ch == ch else nn.Conv2d(ch, out_ch, 1)

    def resample(self, h):
        if self.up:
            return F.interpolate(h, scale_factor=2.0, mode="nearest")
        if self.down:
            return F.avg_pool2d(h, 2)
        return h

    def forward(self, x, emb):
        h = F.silu(self.in_norm(x))
        h = self.in_conv(self.resample(h))
        x = self.resample(x)
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.out_norm(h) * (1 + scale) + shift
        h = self.out_conv(F.silu(h))
        return self.skip(x) + h


class Attention(nn.Module):
    def __init__(self, ch, head_channels=64):
        super().__init__()
        self.heads = ch // head_channels
        self.norm = norm(ch)
        self.qkv = nn.Conv1d(ch, 3 * ch, 1)
        self.proj = nn.Conv1d(ch, ch, 1)

    def forward(self, x):
        b, c, hh, ww = x.shape
        qkv = self.qkv(self.norm(x).reshape(b, c, hh * ww))
        q, k, v = qkv.reshape(b * self.heads, 3 * (c // self.heads), hh * ww).chunk(3, dim=1)
        scale = 1.0 / math.sqrt(math.sqrt(c // self.heads))
        w = torch.softmax(torch.einsum("bct,bcs->bts", q * scale, k * scale), dim=-1)
        a = torch.einsum("bts,bcs->bct", w, v).reshape(b, c, hh * ww)
        return x + self.proj(a).reshape(b, c, hh, ww)


class Block(nn.Module):
    """A ResBlock optionally followed by attention (guided-diffusion's TimestepEmbedSequential)."""

    def __init__(self, res, attn=None):
        super().__init__()
        self.res = res
        self.attn = attn if attn is not None else nn.Identity()

    def forward(self, x, emb):
        return self.attn(self.res(x, emb))


class GuidedUNet(nn.Module):
    def __init__(self, size, mc=128, num_res_blocks=1, attention_resolutions=(16,), in_ch=3, out_ch=6):
        super().__init__()
        mult = CHANNEL_MULT[size]
        emb_ch = 4 * mc
        self.mc = mc
        self.register_buffer("freqs", timestep_frequencies(mc))
        self.time_embed = nn.Sequential(nn.Linear(mc, emb_ch), nn.SiLU(), nn.Linear(emb_ch, emb_ch))
        self.in_conv = nn.Conv2d(in_ch, mc, 3, padding=1)
        self.down = nn.ModuleList()
        skips, ch, res = [mc], mc, size
        for level, m in enumerate(mult):
            for _ in range(num_res_blocks):
                attn = Attention(m * mc) if res in attention_resolutions else None
                self.down.append(Block(ResBlock(ch, emb_ch, m * mc), attn))
                ch = m * mc
                skips.append(ch)
            if level != len(mult) - 1:
                self.down.append(Block(ResBlock(ch, emb_ch, ch, down=True)))
                skips.append(ch)
                res //= 2
        self.middle = nn.ModuleList([Block(ResBlock(ch, emb_ch, ch), Attention(ch)), Block(ResBlock(ch, emb_ch, ch))])
        self.up = nn.ModuleList()
        for level, m in list(enumerate(mult))[::-1]:
            for i in range(num_res_blocks + 1):
                attn = Attention(m * mc) if res in attention_resolutions else None
                block = [Block(ResBlock(ch + skips.pop(), emb_ch, m * mc), attn)]
                ch = m * mc
                if level and i == num_res_blocks:
                    block.append(Block(ResBlock(ch, emb_ch, ch, up=True)))
                    res *= 2
                self.up.append(nn.ModuleList(block))
        self.out_norm = norm(ch)
        self.out_conv = nn.Conv2d(ch, out_ch, 3, padding=1)

    def forward(self, x, t):
        emb = self.time_embed(timestep_embedding(t, self.freqs))
        h = self.in_conv(x)
        hs = [h]
        for block in self.down:
            h = block(h, emb)
            hs.append(h)
        for block in self.middle:
            h = block(h, emb)
        for blocks in self.up:
            h = torch.cat([h, hs.pop()], dim=1)
            for block in blocks:
                h = block(h, emb)
        return self.out_conv(F.silu(self.out_norm(h)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, choices=sorted(CHANNEL_MULT), required=True)
    p.add_argument("--channels", type=int, default=128, help="model channels (DPS FFHQ: 128)")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    net = GuidedUNet(args.size, mc=args.channels).eval()
    x = torch.randn(2, 3, args.size, args.size)
    t = torch.tensor([999.0, 10.0])
    with torch.no_grad():
        traced = torch.jit.trace(net, (x, t), check_trace=False)
        # The traced graph must not have frozen the batch size.
        x3, t3 = torch.randn(3, 3, args.size, args.size), torch.tensor([5.0, 500.0, 900.0])
        err = (traced(x3, t3) - net(x3, t3)).abs().max().item()
        if not err < 1e-3:
            raise SystemExit(f"traced model differs from the eager one at batch 3: {err}")
    if torch.cuda.is_available():  # the saved model must run on the GPU (no CPU constants traced in)
        moved = traced.to("cuda")
        with torch.no_grad():
            moved(x3.cuda(), t3.cuda())
        traced = moved.to("cpu")
    traced.save(args.out)
    params = sum(q.numel() for q in net.parameters())
    print(f"wrote {args.out}: guided-diffusion UNet {args.size}px, {args.channels} channels, "
          f"mult {CHANNEL_MULT[args.size]}, {params / 1e6:.1f}M parameters")


if __name__ == "__main__":
    main()
