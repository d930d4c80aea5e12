// The Gabor Texture node (2D and 3D): sparse convolution noise of windowed Gabor kernels, 8
// impulses per cell with orientations, centres and signs from the cell's hashes, as Cycles'
// gabor.h computes it (after Tricard et al. 2019, "Procedural Phasor Noise"). Outputs the
// phasor's imaginary part as Value, its angle as Phase and its length as Intensity.
#pragma once
#include "hash.h"

namespace optica {

constexpr int kGaborImpulses = 8;

struct GaborPhasor {
  float re, im;
};

// The kernel at `d` (from its centre): a Gaussian windowed by a Hann window, times the phasor
// of the wave `k` (frequency × orientation).
OPTICA_HD GaborPhasor gabor_kernel(float d2, float phase_arg) {
  float hann = 0.5f + 0.5f * cosf(kPi * d2);
  float envelope = expf(-kPi * d2) * hann;
  float angle = 2.0f * kPi * phase_arg;
  return GaborPhasor{envelope * cosf(angle), envelope * sinf(angle)};
}

OPTICA_HD GaborPhasor gabor_cell_2d(float cx, float cy, float px, float py, float frequency, float isotropy,
                                    float base_orientation) {
  GaborPhasor sum = {0.0f, 0.0f};
  for (int i = 0; i < kGaborImpulses; ++i) {
    float seed = float(i * 3);
    float orientation = base_orientation + (hash_f3(cx, cy, seed) - 0.5f) * kPi * isotropy;
    float kx = hash_f3(cx, cy, seed + 1.0f), ky = hash_f3(seed + 1.0f, cx, cy);
    float dx = px - kx, dy = py - ky, d2 = dx * dx + dy * dy;
    if (d2 >= 1.0f) continue;  // the window is zero beyond unit distance
    float weight = hash_f3(cx, cy, seed + 2.0f) < 0.5f ? -1.0f : 1.0f;
    float wx = frequency * cosf(orientation), wy = frequency * sinf(orientation);
    GaborPhasor k = gabor_kernel(d2, dx * wx + dy * wy);
    sum.re += weight * k.re;
    sum.im += weight * k.im;
  }
  return sum;
}

OPTICA_HD float3 spherical_direction(float inclination, float azimuth) {
  return make3(sinf(inclination) * cosf(azimuth), sinf(inclination) * sinf(azimuth), cosf(inclination));
}

OPTICA_HD float3 gabor_orientation_3d(float3 base, float isotropy, float cx, float cy, float cz, float seed) {
  if (isotropy == 0.0f) return base;
  float inclination = acosf(base.z);
  float azimuth = (base.y < 0.0f ? -1.0f : 1.0f) * acosf(base.x / sqrtf(base.x * base.x + base.y * base.y));
  inclination += hash_f4(cx, cy, cz, seed) * kPi * isotropy;
  azimuth += hash_f4(cz, cx, seed, cy) * kPi * isotropy;
  return spherical_direction(inclination, azimuth);
}

OPTICA_HD GaborPhasor gabor_cell_3d(float3 cell, float3 p, float frequency, float isotropy, float3 base) {
  GaborPhasor sum = {0.0f, 0.0f};
  for (int i = 0; i < kGaborImpulses; ++i) {
    float seed = float(i * 3);
    float3 orientation = gabor_orientation_3d(base, isotropy, cell.x, cell.y, cell.z, seed);
    float3 centre = hash_f4_to_3(cell.x, cell.y, cell.z, seed + 1.0f);
    float3 d = p - centre;
    float d2 = dot(d, d);
    if (d2 >= 1.0f) continue;
    float weight = hash_f4(cell.x, cell.y, cell.z, seed + 2.0f) < 0.5f ? -1.0f : 1.0f;
    GaborPhasor k = gabor_kernel(d2, dot(d, orientation * frequency));
    sum.re += weight * k.re;
    sum.im += weight * k.im;
  }
  return sum;
}

// The node: `p` already scaled; type 0 is 2D (orientation_2d), 1 is 3D (orientation_3d).
OPTICA_HD void gabor_texture(int type, float3 p, float frequency, float anisotropy, float orientation_2d,
                             float3 orientation_3d, float &value, float &phase, float &intensity) {
  float isotropy = 1.0f - clampf(anisotropy, 0.0f, 1.0f);
  frequency = maxf(0.001f, frequency);
  GaborPhasor sum = {0.0f, 0.0f};
  float deviation;
  if (type == 0) {
    float fx = floorf(p.x), fy = floorf(p.y);
    for (int j = -1; j <= 1; ++j)
      for (int i = -1; i <= 1; ++i) {
        GaborPhasor c = gabor_cell_2d(fx + float(i), fy + float(j), (p.x - fx) - float(i), (p.y - fy) - float(j),
                                      frequency, isotropy, orientation_2d);
        sum.re += c.re;
        sum.im += c.im;
      }
    deviation = sqrtf(kGaborImpulses * 0.5f * 0.25f);
  } else {
    float3 base = normalize(orientation_3d);
    float3 cell = make3(floorf(p.x), floorf(p.y), floorf(p.z));
    float3 local = p - cell;
    for (int k = -1; k <= 1; ++k)
      for (int j = -1; j <= 1; ++j)
        for (int i = -1; i <= 1; ++i) {
          float3 offset = make3(float(i), float(j), float(k));
          GaborPhasor c = gabor_cell_3d(cell + offset, local - offset, frequency, isotropy, base);
          sum.re += c.re;
          sum.im += c.im;
        }
    deviation = sqrtf(kGaborImpulses * 0.5f * (1.0f / (4.0f * 1.41421356237f)));
  }
  float normalization = 6.0f * deviation;
  value = (sum.im / normalization) * 0.5f + 0.5f;
  phase = (atan2f(sum.im, sum.re) + kPi) / (2.0f * kPi);
  intensity = sqrtf(sum.re * sum.re + sum.im * sum.im) / normalization;
}

}  // namespace optica
