// Perlin gradient noise in 1–4 dimensions and its fractal sums (fBM, multifractal, hybrid and
// ridged multifractal, heterogeneous terrain), computing what Cycles' noise.h and
// fractal_noise.h compute (originally Open Shading Language's noise), and the Noise Texture
// node built on them. Points are `NoisePoint`s of 1–4 used coordinates.
#pragma once
#include "hash.h"

namespace optica {

struct NoisePoint {
  float v[4];
  int n;  // coordinates used: 1–4
};

OPTICA_HD NoisePoint noise_point(int n, float3 p, float w) {
  NoisePoint q;
  q.n = n;
  if (n == 1) {
    q.v[0] = w; q.v[1] = q.v[2] = q.v[3] = 0.0f;
  } else {
    q.v[0] = p.x; q.v[1] = p.y; q.v[2] = n >= 3 ? p.z : 0.0f; q.v[3] = n == 4 ? w : 0.0f;
  }
  return q;
}
OPTICA_HD NoisePoint noise_scaled(NoisePoint p, float s) {
  for (int i = 0; i < 4; ++i) p.v[i] *= s;
  return p;
}
OPTICA_HD NoisePoint noise_shifted(NoisePoint p, const float *offset) {
  for (int i = 0; i < p.n; ++i) p.v[i] += offset[i];
  return p;
}

OPTICA_HD float noise_fade(float t) { return t * t * t * (t * (t * 6.0f - 15.0f) + 10.0f); }
OPTICA_HD float flip_if(float v, int condition) { return condition ? -v : v; }
// Cycles' mix(): a + t (b − a) (its CPU kernels interpolate noise corners this way too).
OPTICA_HD float noise_mix(float a, float b, float t) { return a + t * (b - a); }

// Integer cell and fraction of x (Cycles' floorfrac).
OPTICA_HD float cell_fraction(float x, int &cell) {
  float f = floorf(x);
  cell = int(f);
  return x - f;
}

OPTICA_HD float gradient_1d(uint32_t hash, float x) {
  int h = int(hash & 15u);
  return flip_if(float(1 + (h & 7)), h & 8) * x;
}
OPTICA_HD float gradient_2d(uint32_t hash, float x, float y) {
  int h = int(hash & 7u);
  float u = h < 4 ? x : y, v = 2.0f * (h < 4 ? y : x);
  return flip_if(u, h & 1) + flip_if(v, h & 2);
}
OPTICA_HD float gradient_3d(uint32_t hash, float x, float y, float z) {
  int h = int(hash & 15u);
  float u = h < 8 ? x : y;
  float v = h < 4 ? y : ((h == 12 || h == 14) ? x : z);
  return flip_if(u, h & 1) + flip_if(v, h & 2);
}
OPTICA_HD float gradient_4d(uint32_t hash, float x, float y, float z, float w) {
  int h = int(hash & 31u);
  float u = h < 24 ? x : y, v = h < 16 ? y : z, s = h < 8 ? z : w;
  return flip_if(u, h & 1) + flip_if(v, h & 2) + flip_if(s, h & 4);
}

OPTICA_HD float perlin_1d(float x) {
  int X;
  float fx = cell_fraction(x, X);
  return noise_mix(gradient_1d(hash_u1(uint32_t(X)), fx), gradient_1d(hash_u1(uint32_t(X + 1)), fx - 1.0f),
                    noise_fade(fx));
}

OPTICA_HD float perlin_2d(float x, float y) {
  int X, Y;
  float fx = cell_fraction(x, X), fy = cell_fraction(y, Y);
  float g[4];
  for (int c = 0; c < 4; ++c) {
    int dx = c & 1, dy = c >> 1;
    g[c] = gradient_2d(hash_u2(uint32_t(X + dx), uint32_t(Y + dy)), fx - dx, fy - dy);
  }
  float u = noise_fade(fx), v = noise_fade(fy);
  return noise_mix(noise_mix(g[0], g[1], u), noise_mix(g[2], g[3], u), v);
}

OPTICA_HD float perlin_3d(float x, float y, float z) {
  int X, Y, Z;
  float fx = cell_fraction(x, X), fy = cell_fraction(y, Y), fz = cell_fraction(z, Z);
  float g[8];
  for (int c = 0; c < 8; ++c) {
    int dx = c & 1, dy = (c >> 1) & 1, dz = c >> 2;
    g[c] = gradient_3d(hash_u3(uint32_t(X + dx), uint32_t(Y + dy), uint32_t(Z + dz)), fx - dx, fy - dy, fz - dz);
  }
  float u = noise_fade(fx), v = noise_fade(fy), w = noise_fade(fz);
  float near = noise_mix(noise_mix(g[0], g[1], u), noise_mix(g[2], g[3], u), v);
  float far = noise_mix(noise_mix(g[4], g[5], u), noise_mix(g[6], g[7], u), v);
  return noise_mix(near, far, w);
}

OPTICA_HD float perlin_4d(float x, float y, float z, float w) {
  int X, Y, Z, W;
  float fx = cell_fraction(x, X), fy = cell_fraction(y, Y), fz = cell_fraction(z, Z), fw = cell_fraction(w, W);
  float u = noise_fade(fx), v = noise_fade(fy), t = noise_fade(fz), s = noise_fade(fw);
  float layer[2];
  for (int dw = 0; dw < 2; ++dw) {
    float g[8];
    for (int c = 0; c < 8; ++c) {
      int dx = c & 1, dy = (c >> 1) & 1, dz = c >> 2;
      g[c] = gradient_4d(hash_u4(uint32_t(X + dx), uint32_t(Y + dy), uint32_t(Z + dz), uint32_t(W + dw)), fx - dx,
                         fy - dy, fz - dz, fw - dw);
    }
    float near = noise_mix(noise_mix(g[0], g[1], u), noise_mix(g[2], g[3], u), v);
    float far = noise_mix(noise_mix(g[4], g[5], u), noise_mix(g[6], g[7], u), v);
    layer[dw] = noise_mix(near, far, t);
  }
  return noise_mix(layer[0], layer[1], s);
}

// Signed noise in about [-1, 1]: coordinates wrapped every 100000 (float precision), each
// dimension's Perlin noise scaled by OSL's measured factor.
OPTICA_HD float snoise(const NoisePoint &p) {
  float q[4];
  for (int i = 0; i < 4; ++i) {
    float correction = fabsf(p.v[i]) >= 1000000.0f ? 0.5f : 0.0f;
    q[i] = fmodf(p.v[i], 100000.0f) + correction;
  }
  switch (p.n) {
    case 1: return 0.2500f * perlin_1d(q[0]);
    case 2: return 0.6616f * perlin_2d(q[0], q[1]);
    case 3: return 0.9820f * perlin_3d(q[0], q[1], q[2]);
    default: return 0.8344f * perlin_4d(q[0], q[1], q[2], q[3]);
  }
}

// ---- fractal sums; `detail` is in [0, 15], a fraction blends in one more octave

OPTICA_HD float noise_fbm(NoisePoint p, float detail, float roughness, float lacunarity, bool normalize) {
  float fscale = 1.0f, amp = 1.0f, maxamp = 0.0f, sum = 0.0f;
  for (int i = 0; i <= int(detail); ++i) {
    sum += snoise(noise_scaled(p, fscale)) * amp;
    maxamp += amp;
    amp *= roughness;
    fscale *= lacunarity;
  }
  float rmd = detail - floorf(detail);
  if (rmd != 0.0f) {
    float sum2 = sum + snoise(noise_scaled(p, fscale)) * amp;
    return normalize ? noise_mix(0.5f * sum / maxamp + 0.5f, 0.5f * sum2 / (maxamp + amp) + 0.5f, rmd)
                     : noise_mix(sum, sum2, rmd);
  }
  return normalize ? 0.5f * sum / maxamp + 0.5f : sum;
}

OPTICA_HD float noise_multifractal(NoisePoint p, float detail, float roughness, float lacunarity) {
  float value = 1.0f, pwr = 1.0f;
  for (int i = 0; i <= int(detail); ++i) {
    value *= pwr * snoise(p) + 1.0f;
    pwr *= roughness;
    p = noise_scaled(p, lacunarity);
  }
  float rmd = detail - floorf(detail);
  if (rmd != 0.0f) value *= rmd * pwr * snoise(p) + 1.0f;
  return value;
}

OPTICA_HD float noise_hetero_terrain(NoisePoint p, float detail, float roughness, float lacunarity, float offset) {
  float pwr = roughness;
  float value = offset + snoise(p);
  p = noise_scaled(p, lacunarity);
  for (int i = 1; i <= int(detail); ++i) {
    value += (snoise(p) + offset) * pwr * value;
    pwr *= roughness;
    p = noise_scaled(p, lacunarity);
  }
  float rmd = detail - floorf(detail);
  if (rmd != 0.0f) value += rmd * ((snoise(p) + offset) * pwr * value);
  return value;
}

OPTICA_HD float noise_hybrid_multifractal(NoisePoint p, float detail, float roughness, float lacunarity, float offset,
                                          float gain) {
  float pwr = 1.0f, value = 0.0f, weight = 1.0f;
  for (int i = 0; weight > 0.001f && i <= int(detail); ++i) {
    weight = fminf(weight, 1.0f);
    float signal = (snoise(p) + offset) * pwr;
    pwr *= roughness;
    value += weight * signal;
    weight *= gain * signal;
    p = noise_scaled(p, lacunarity);
  }
  float rmd = detail - floorf(detail);
  if (rmd != 0.0f && weight > 0.001f) {
    weight = fminf(weight, 1.0f);
    value += rmd * weight * ((snoise(p) + offset) * pwr);
  }
  return value;
}

OPTICA_HD float noise_ridged_multifractal(NoisePoint p, float detail, float roughness, float lacunarity, float offset,
                                          float gain) {
  float pwr = roughness;
  float signal = offset - fabsf(snoise(p));
  signal *= signal;
  float value = signal, weight = 1.0f;
  for (int i = 1; i <= int(detail); ++i) {
    p = noise_scaled(p, lacunarity);
    weight = saturatef(signal * gain);
    signal = offset - fabsf(snoise(p));
    signal *= signal;
    signal *= weight;
    value += signal * pwr;
    pwr *= roughness;
  }
  return value;
}

// Noise Texture's `noise_type`, in Blender's order (the `noise_type` enum in opcodes.h).
enum NoiseType : int { kNoiseMultifractal, kNoiseRidged, kNoiseHybrid, kNoiseFbm, kNoiseHeteroTerrain };

struct NoiseParams {
  float detail, roughness, lacunarity, offset, gain;
  int type;
  bool normalize;
};

OPTICA_HD float noise_select(const NoisePoint &p, const NoiseParams &np) {
  switch (np.type) {
    case kNoiseMultifractal: return noise_multifractal(p, np.detail, np.roughness, np.lacunarity);
    case kNoiseRidged:
      return noise_ridged_multifractal(p, np.detail, np.roughness, np.lacunarity, np.offset, np.gain);
    case kNoiseHybrid:
      return noise_hybrid_multifractal(p, np.detail, np.roughness, np.lacunarity, np.offset, np.gain);
    case kNoiseHeteroTerrain: return noise_hetero_terrain(p, np.detail, np.roughness, np.lacunarity, np.offset);
    default: return noise_fbm(p, np.detail, np.roughness, np.lacunarity, np.normalize);
  }
}

// A seed offset in [100, 200] per coordinate (Cycles' random_float*_offset): 1D hashes the
// seed alone, more dimensions hash (seed, axis).
OPTICA_HD void noise_seed_offset(int n, float seed, float *out) {
  if (n == 1) {
    out[0] = 100.0f + hash_f1(seed) * 100.0f;
    return;
  }
  for (int i = 0; i < n; ++i) out[i] = 100.0f + hash_f2(seed, float(i)) * 100.0f;
}

// The Noise Texture node: `co` already multiplied by Scale; writes Fac and (when wanted) Color.
OPTICA_HD float noise_texture(NoisePoint p, NoiseParams np, float distortion, bool color_wanted, float3 &color) {
  np.detail = clampf(np.detail, 0.0f, 15.0f);
  np.roughness = maxf(np.roughness, 0.0f);
  const int n = p.n;
  if (distortion != 0.0f) {
    float shift[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n; ++i) {
      float offset[4];
      noise_seed_offset(n, float(i), offset);
      shift[i] = snoise(noise_shifted(p, offset)) * distortion;
    }
    p = noise_shifted(p, shift);
  }
  float value = noise_select(p, np);
  if (color_wanted) {
    // The colour's G and B use the seeds after those of the distortion (1D: seeds 1 and 2).
    float first_seed = n == 1 ? 1.0f : float(n);
    float offset[4];
    noise_seed_offset(n, first_seed, offset);
    float g = noise_select(noise_shifted(p, offset), np);
    noise_seed_offset(n, first_seed + 1.0f, offset);
    float b = noise_select(noise_shifted(p, offset), np);
    color = make3(value, g, b);
  }
  return value;
}

}  // namespace optica
