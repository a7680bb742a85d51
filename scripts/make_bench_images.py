#!/usr/bin/env python3
"""Writes COUNT RGB PNG images of SIZE x SIZE (smooth seeded patterns) for GPU end-to-end runs.

The GPU machine has no image dataset at 64-256 px with 3 channels; speed does not depend on the
content, so scripts/gpu-check.sh makes one with this and `ipbench dataset import png --channels 3`.
Standard library only (zlib + struct PNG writer): runs with any python3, no numpy or PIL.

  python3 scripts/make_bench_images.py --size 64 --count 8 --out /tmp/png64
"""
import argparse
import math
import os
import random
import struct
import zlib


def png_bytes(width, height, rows):
    """An 8-bit RGB PNG of `rows` (height lists of width * 3 ints in 0..255)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(r) for r in rows)  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def image_rows(size, rng):
    """Sum of a few random plane waves per channel, scaled to 0..255."""
    waves = [[(rng.uniform(0.5, 4.0), rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)) for _ in range(3)]
             for _ in range(3)]
    rows = []
    for i in range(size):
        row = []
        for j in range(size):
            for c in range(3):
                v = 0.0
                for f, angle, phase in waves[c]:
                    v += math.sin(2 * math.pi * f * (i * math.cos(angle) + j * math.sin(angle)) / size + phase)
                row.append(max(0, min(255, int(127.5 + 42.5 * v))))
        rows.append(row)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    if a.size < 8 or a.count < 1:
        p.error("--size >= 8 and --count >= 1")
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    for k in range(a.count):
        with open(os.path.join(a.out, f"img{k:03d}.png"), "wb") as f:
            f.write(png_bytes(a.size, a.size, image_rows(a.size, rng)))
    print(f"wrote {a.count} images of {a.size}x{a.size} to {a.out}")


if __name__ == "__main__":
    main()
