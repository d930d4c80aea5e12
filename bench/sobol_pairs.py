#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which dimensions of the kernel's 4-D sample sets to give a 2-D draw: the variance of 2-D
integrals estimated with each pair of dimensions, as native/src/kernel/sampler.h draws them
(Owen-scrambled, shuffled Sobol' with Joe & Kuo's first four dimensions), against random points.

    .venv/bin/python bench/sobol_pairs.py [--pixels 2000]

A numpy model of `Sampler::next4` (the hashes and scrambles bit for bit, 32-bit arithmetic in
uint64), over many pixel seeds at 16-1,024 samples, for an integrand with an edge (a disk) and a
smooth one. Dimensions 0 and 1 form a (0, 2)-sequence; 1 and 2, or 2 and 3, do not, and give
several times the variance of a single 2-D integral at high counts. A lobe pick drawn beside a
direction is one 3-D point and changes the picture (docs/benchmarks.md, *Sampling: which
dimensions a 2-D draw takes*: moving the kernel's draws to 0 and 1 was tried and reverted).
"""

from __future__ import annotations

import argparse

import numpy as np

MASK = np.uint64(0xFFFFFFFF)


def u32(x) -> np.ndarray:
    return np.asarray(x).astype(np.uint64) & MASK


def direction_numbers() -> np.ndarray:
    """Dimension 0 van der Corput; 1-3 from new-joe-kuo-6.21201, as make_sobol_table."""
    v = np.zeros((4, 32), np.uint64)
    v[0] = [1 << (31 - k) for k in range(32)]
    s, a, m = [1, 2, 3], [0, 1, 1], [[1], [1, 3], [1, 3, 1]]
    for d in range(3):
        vd = [m[d][k] << (31 - k) for k in range(s[d])] + [0] * (32 - s[d])
        for k in range(s[d], 32):
            vd[k] = vd[k - s[d]] ^ (vd[k - s[d]] >> s[d])
            for j in range(1, s[d]):
                vd[k] ^= ((a[d] >> (s[d] - 1 - j)) & 1) * vd[k - j]
        v[d + 1] = vd
    return v


V = direction_numbers()


def hash_u32(x):
    x = u32(x)
    x ^= x >> np.uint64(16)
    x = u32(x * np.uint64(0x7FEB352D))
    x ^= x >> np.uint64(15)
    x = u32(x * np.uint64(0x846CA68B))
    return x ^ (x >> np.uint64(16))


def hash_combine(seed, v):
    seed = u32(seed)
    return hash_u32(seed ^ u32(np.uint64(v) + np.uint64(0x9E3779B9) + u32(seed << np.uint64(6)) + (seed >> np.uint64(2))))


def reverse_bits(x):
    x = u32(x)
    for shift, mask in ((1, 0x55555555), (2, 0x33333333), (4, 0x0F0F0F0F), (8, 0x00FF00FF)):
        s, m = np.uint64(shift), np.uint64(mask)
        x = ((x >> s) & m) | ((x & m) << s)
    return u32((x >> np.uint64(16)) | (x << np.uint64(16)))


def nested_uniform_scramble(x, seed):
    x = u32(reverse_bits(x) + u32(seed))
    for c in (0x6C50B47C, 0xB82F1E52, 0xC7AFE638, 0x8D22F6E6):
        x ^= u32(x * np.uint64(c))
    return reverse_bits(x)


def sobol(index, d):
    out = np.zeros_like(index)
    for k in range(32):
        out ^= np.where((index >> np.uint64(k)) & np.uint64(1), V[d, k], np.uint64(0))
    return out


def next4(pixel_seed, sample_index, set_index):
    seed = hash_combine(pixel_seed, set_index)
    index = nested_uniform_scramble(sample_index, seed)
    return [(nested_uniform_scramble(sobol(index, d), hash_combine(seed, d + 1)) >> np.uint64(8)).astype(np.float64)
            / 16777216.0 for d in range(4)]


def disk(u, v):
    return ((u - 0.3) ** 2 + (v - 0.6) ** 2 < 0.08) * (1.0 + u * v)


def smooth(u, v):
    return np.exp(-8.0 * ((u - 0.4) ** 2 + (v - 0.5) ** 2)) * np.cos(3.0 * u)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pixels", type=int, default=2000, help="pixel seeds per count (2000)")
    args = ap.parse_args(argv)
    print("| samples | integrand | dims 0,1 | dims 1,2 | dims 2,3 | random |")
    print("|--:|---|--:|--:|--:|--:|")
    rng = np.random.default_rng(0)
    for n in (16, 64, 256, 1024):
        seeds = hash_u32(np.arange(args.pixels, dtype=np.uint64)[:, None] * np.uint64(7919) + np.uint64(12345))
        index = np.broadcast_to(np.arange(n, dtype=np.uint64)[None, :], (args.pixels, n)).copy()
        s = next4(seeds, index, 2)
        r = rng.random((2, args.pixels, n))
        for name, f in (("disk", disk), ("smooth", smooth)):
            var = [f(*pair).mean(1).var() for pair in ((s[0], s[1]), (s[1], s[2]), (s[2], s[3]), (r[0], r[1]))]
            print(f"| {n} | {name} | {var[0]:.3g} | {var[1]:.3g} ({var[1] / var[0]:.2f}×) | "
                  f"{var[2]:.3g} ({var[2] / var[0]:.2f}×) | {var[3]:.3g} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
