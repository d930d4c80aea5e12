# SPDX-License-Identifier: GPL-3.0-or-later
"""Image error and convergence arithmetic of the equal-quality benchmarks (vs_cycles, vs_peers):
noise-corrected RMSE against a reference, samples needed to reach an error, the 1/√spp check.

Pure numpy, no bpy: the benchmarks feed it images (h, w, 3) float arrays and sample counts.

Errors are the RMSE over every pixel and colour channel. A reference is the mean of two
independent halves (different seeds); the squared difference of the halves estimates the
reference's own noise, which is subtracted from every measured mean squared error, so a
1024-sample reference can judge a 1024-sample image: what is left is the image's own noise
plus its bias against the reference engine.
"""

from __future__ import annotations

import math

import numpy as np

# A log-log slope of RMSE against samples flatter than this between 64 samples and the most
# measured is a plateau: Monte Carlo noise falls with slope −0.5; a bias, or a sampling pattern
# whose samples repeat, flattens it. −0.4 leaves room for the slope's own scatter on 256² images.
PLATEAU_SLOPE = -0.4
# The relative difference of the image means above which the engines do not render the same
# scene (light units, a missing light, a wrong material).
MEAN_TOLERANCE = 0.01


def mse(image: np.ndarray, reference: np.ndarray) -> float:
    d = np.asarray(image, np.float64) - np.asarray(reference, np.float64)
    return float(np.mean(d * d))


def reference_from_halves(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """(mean image, its own noise as a mean squared error) from two independent renders with the
    same samples each: E[(a − b)²] = 2σ², and the mean's variance is σ²/2 = E[(a − b)²]/4."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return 0.5 * (a + b), mse(a, b) / 4.0


def noise_from_pair(a: np.ndarray, b: np.ndarray) -> float:
    """The RMSE of one n-sample image against its own converged image, from two independent
    n-sample renders (different seeds): E[(a − b)²] = 2σ²."""
    return math.sqrt(mse(a, b) / 2.0)


def corrected_rmse(image: np.ndarray, reference: np.ndarray, reference_noise_mse: float) -> float:
    """RMSE of `image` against the converged reference: the measured MSE minus the reference's
    own noise (never below a millionth of the measured MSE, so a log stays defined)."""
    return rmse_from_mses([mse(image, reference)], reference_noise_mse)


def rmse_from_mses(mses, reference_noise_mse: float) -> float:
    """The RMSE of renders with different seeds against the reference: the root of their mean
    MSE less the reference's own noise. One render's MSE is a sample of a heavy-tailed quantity
    where a few pixels (a tiny highlight, a caustic) carry most of the error; the mean over seeds
    estimates the expected error that the 1/√spp law and the equal-quality ratio speak of."""
    measured = float(np.mean(mses))
    return math.sqrt(max(measured - reference_noise_mse, 1e-6 * measured))


def relative_mean_difference(image: np.ndarray, reference: np.ndarray) -> float:
    """(mean(image) − mean(reference)) / mean(reference), over all pixels and channels."""
    ref = float(np.mean(reference))
    return (float(np.mean(image)) - ref) / ref if ref else float("nan")


def loglog_slope(samples, errors) -> float:
    """Least-squares slope of log(error) against log(samples): −0.5 for unbiased Monte Carlo."""
    if len(samples) < 2:
        return float("nan")
    return float(np.polyfit(np.log(np.asarray(samples, float)), np.log(np.asarray(errors, float)), 1)[0])


def samples_to_reach(samples, errors, target: float) -> float:
    """Samples at which the error falls to `target`: interpolated in log-log between the two
    measured counts that bracket it, or extrapolated along the segment of the nearest two."""
    s = np.log(np.asarray(samples, float))
    e = np.log(np.asarray(errors, float))
    order = np.argsort(s)
    s, e = s[order], e[order]
    t = math.log(target)
    below = np.nonzero(e <= t)[0]
    if len(below) == 0:
        i = len(s) - 2  # not reached: extrapolate along the last segment
    elif below[0] == 0:
        i = 0  # reached already at the fewest samples: extrapolate backwards
    else:
        i = below[0] - 1
    slope = (e[i + 1] - e[i]) / (s[i + 1] - s[i])
    if slope >= 0:
        return float("nan")
    return float(math.exp(s[i] + (t - e[i]) / slope))


def linear_time_model(samples, seconds) -> tuple[float, float]:
    """Least-squares seconds = fixed + per_sample · samples over the measured counts (scene
    synchronisation and BVH build go to `fixed`; a shared machine's noise is evened out)."""
    per_sample, fixed = np.polyfit(np.asarray(samples, float), np.asarray(seconds, float), 1)
    return float(fixed), float(per_sample)


def time_at(samples, seconds, n: float) -> float:
    """Render time for n samples, linear between the two measured counts around n (or along the
    nearest two): unlike one straight line through every count, a render far away (and run under
    another load) does not move it."""
    s = np.asarray(samples, float)
    t = np.asarray(seconds, float)
    order = np.argsort(s)
    s, t = s[order], t[order]
    i = int(np.clip(np.searchsorted(s, n) - 1, 0, len(s) - 2))
    return float(t[i] + (t[i + 1] - t[i]) * (n - s[i]) / (s[i + 1] - s[i]))


def convergence_check(samples, errors, *, from_samples: int = 64) -> dict:
    """Whether the error keeps falling like 1/√spp from `from_samples` on.

    slope: log-log slope over the counts ≥ from_samples; floor_excess: the error at the most
    samples over what 1/√spp predicts from the error at from_samples (1.0 when the noise keeps
    falling; a plateau shows as a growing excess); plateau: the slope is flatter than
    PLATEAU_SLOPE."""
    pairs = sorted((n, e) for n, e in zip(samples, errors) if n >= from_samples)
    if len(pairs) < 2:
        return {"slope": float("nan"), "floor_excess": float("nan"), "plateau": False, "counts": len(pairs)}
    ns, es = zip(*pairs)
    slope = loglog_slope(ns, es)
    predicted = es[0] * math.sqrt(ns[0] / ns[-1])
    return {"slope": slope, "floor_excess": es[-1] / predicted, "plateau": bool(slope > PLATEAU_SLOPE),
            "counts": len(pairs), "from": ns[0], "to": ns[-1]}
