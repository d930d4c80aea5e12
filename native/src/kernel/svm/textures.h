// The simpler procedural texture nodes — Checker, Gradient, Magic, Wave, Brick, White Noise —
// computing what Cycles' checker.h, gradient.h, magic.h, wave.h, brick.h and white_noise.h
// compute. Coordinates arrive already multiplied by the node's Scale where it has one.
#pragma once
#include "noise.h"

namespace optica {

OPTICA_HD float checker_texture(float3 p) {
  // Nudged so that unit coordinates (a face of a unit cube) fall inside one square.
  int xi = abs(int(floorf((p.x + 0.000001f) * 0.999999f)));
  int yi = abs(int(floorf((p.y + 0.000001f) * 0.999999f)));
  int zi = abs(int(floorf((p.z + 0.000001f) * 0.999999f)));
  return ((xi % 2 == yi % 2) == (zi % 2)) ? 1.0f : 0.0f;
}

// Gradient Texture's `gradient_type`, in Blender's order.
enum GradientType : int {
  kGradientLinear, kGradientQuadratic, kGradientEasing, kGradientDiagonal, kGradientSpherical,
  kGradientQuadraticSphere, kGradientRadial
};

OPTICA_HD float gradient_texture(int type, float3 p) {
  float x = p.x, y = p.y, z = p.z, f = 0.0f;
  switch (type) {
    case kGradientLinear: f = x; break;
    case kGradientQuadratic: {
      float r = maxf(x, 0.0f);
      f = r * r;
      break;
    }
    case kGradientEasing: {
      float r = minf(maxf(x, 0.0f), 1.0f), t = r * r;
      f = 3.0f * t - 2.0f * t * r;
      break;
    }
    case kGradientDiagonal: f = (x + y) * 0.5f; break;
    case kGradientRadial: f = atan2f(y, x) / (2.0f * kPi) + 0.5f; break;
    default: {
      // Biased so a unit-length p gives exactly zero.
      float r = maxf(0.999999f - sqrtf(x * x + y * y + z * z), 0.0f);
      f = type == kGradientQuadraticSphere ? r * r : r;
    }
  }
  return saturatef(f);
}

OPTICA_HD float3 magic_texture(float3 p, float scale, int depth, float distortion) {
  // Periodic arguments wrapped first: large coordinates would otherwise give NaN or banding.
  const float two_pi = 2.0f * kPi;
  float px = fmodf(p.x, two_pi), py = fmodf(p.y, two_pi), pz = fmodf(p.z, two_pi);
  float x = sinf((px + py + pz) * 5.0f * scale);
  float y = cosf((-px + py - pz) * 5.0f * scale);
  float z = -cosf((-px - py + pz) * 5.0f * scale);
  if (depth > 0) {
    x *= distortion; y *= distortion; z *= distortion;
    y = -cosf(x - y + z) * distortion;
    if (depth > 1) x = cosf(x - y - z) * distortion;
    if (depth > 2) z = sinf(-x - y - z) * distortion;
    if (depth > 3) x = -cosf(-x + y - z) * distortion;
    if (depth > 4) y = -sinf(-x + y + z) * distortion;
    if (depth > 5) y = -cosf(-x + y + z) * distortion;
    if (depth > 6) x = cosf(x + y + z) * distortion;
    if (depth > 7) z = sinf(x + y - z) * distortion;
    if (depth > 8) x = -cosf(-x - y + z) * distortion;
    if (depth > 9) y = -sinf(x - y + z) * distortion;
  }
  if (distortion != 0.0f) {
    float d = distortion * 2.0f;
    x /= d; y /= d; z /= d;
  }
  return make3(0.5f - x, 0.5f - y, 0.5f - z);
}

// Wave Texture's enums, in Blender's order.
enum WaveType : int { kWaveBands, kWaveRings };
enum WaveProfile : int { kWaveSin, kWaveSaw, kWaveTri };

OPTICA_HD float wave_texture(int type, int bands_direction, int rings_direction, int profile, float3 p,
                             float distortion, float detail, float detail_scale, float detail_roughness,
                             float phase) {
  p = (p + make3(0.000001f)) * 0.999999f;
  float n;
  if (type == kWaveBands) {
    switch (bands_direction) {
      case 0: n = p.x * 20.0f; break;
      case 1: n = p.y * 20.0f; break;
      case 2: n = p.z * 20.0f; break;
      default: n = (p.x + p.y + p.z) * 10.0f;
    }
  } else {
    float3 rp = p;
    if (rings_direction == 0) rp.x = 0.0f;
    else if (rings_direction == 1) rp.y = 0.0f;
    else if (rings_direction == 2) rp.z = 0.0f;
    n = length(rp) * 20.0f;
  }
  n += phase;
  if (distortion != 0.0f)
    n += distortion * (noise_fbm(noise_point(3, p * detail_scale, 0.0f), detail, detail_roughness, 2.0f, true) * 2.0f -
                       1.0f);
  const float two_pi = 2.0f * kPi;
  if (profile == kWaveSin) return 0.5f + 0.5f * sinf(n - 0.5f * kPi);
  n /= two_pi;
  if (profile == kWaveSaw) return n - floorf(n);
  return fabsf(n - floorf(n + 0.5f)) * 2.0f;
}

// Brick Texture's integer noise: the tint of one brick.
OPTICA_HD float brick_noise(uint32_t n) {
  n = (n + 1013u) & 0x7fffffffu;
  n = (n >> 13) ^ n;
  uint32_t nn = (n * (n * n * 60493u + 19990303u) + 1376312589u) & 0x7fffffffu;
  return 0.5f * (float(nn) / 1073741824.0f);
}

OPTICA_HD float smoothstep_unit(float f) {
  if (f <= 0.0f) return 0.0f;
  if (f >= 1.0f) return 1.0f;
  float ff = f * f;
  return 3.0f * ff - 2.0f * ff * f;
}

struct BrickParams {
  float mortar_size, mortar_smooth, bias, brick_width, row_height, offset_amount, squash_amount;
  int offset_frequency, squash_frequency;
};

// (tint, mortar) at p (already scaled).
OPTICA_HD float2 brick_texture(float3 p, BrickParams b) {
  int row = int(floorf(p.y / b.row_height));
  float offset = 0.0f;
  if (b.offset_frequency && b.squash_frequency) {
    b.brick_width *= (row % b.squash_frequency) ? 1.0f : b.squash_amount;
    offset = (row % b.offset_frequency) ? 0.0f : b.brick_width * b.offset_amount;
  }
  int brick = int(floorf((p.x + offset) / b.brick_width));
  float x = (p.x + offset) - b.brick_width * brick;
  float y = p.y - b.row_height * row;
  float tint = saturatef(brick_noise((uint32_t(row) << 16) + uint32_t(brick & 0xFFFF)) + b.bias);
  float min_dist = minf(minf(x, y), minf(b.brick_width - x, b.row_height - y));
  float mortar;
  if (min_dist >= b.mortar_size) mortar = 0.0f;
  else if (b.mortar_smooth == 0.0f) mortar = 1.0f;
  else mortar = smoothstep_unit((1.0f - min_dist / b.mortar_size) / b.mortar_smooth);
  return float2{tint, mortar};
}

OPTICA_HD float white_noise_value(int dims, float3 v, float w) {
  switch (dims) {
    case 1: return hash_f1(w);
    case 2: return hash_f2(v.x, v.y);
    case 3: return hash_f3(v.x, v.y, v.z);
    default: return hash_f4(v.x, v.y, v.z, w);
  }
}
OPTICA_HD float3 white_noise_color(int dims, float3 v, float w) {
  switch (dims) {
    case 1: return hash_f1_to_3(w);
    case 2: return hash_f2_to_3(v.x, v.y);
    case 3: return hash_f3_to_3(v.x, v.y, v.z);
    default: return hash_f4_to_3(v.x, v.y, v.z, w);
  }
}

}  // namespace optica
