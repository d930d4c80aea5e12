// Directions to and from the images of an environment: the equirectangular and mirror-ball
// maps of the Environment Texture, in Cycles' conventions (kernel/camera/projection.h: the
// image's centre column looks along +X, u grows towards −Y, v = 0 looks straight down), and
// the node's lookup.
#pragma once
#include "image.h"

namespace optica {

enum EnvProjection : int32_t { kEnvEquirectangular = 0, kEnvMirrorBall = 1 };

OPTICA_HD float2 direction_to_equirectangular(float3 d) {
  float len = length(d);
  if (len == 0.0f) return {0.0f, 0.0f};
  float u = 0.5f - atan2f(d.y, d.x) * (0.5f / kPi);
  float v = 1.0f - acosf(clampf(d.z / len, -1.0f, 1.0f)) / kPi;
  return {u, v};
}

// Inverse of direction_to_equirectangular for u, v in [0, 1].
OPTICA_HD float3 equirectangular_to_direction(float u, float v) {
  float phi = kPi * (1.0f - 2.0f * u), theta = kPi * (1.0f - v);
  float st = sinf(theta);
  return make3(st * cosf(phi), st * sinf(phi), cosf(theta));
}

// The point of a mirror ball (seen along +Y from far away) that reflects direction d.
OPTICA_HD float2 direction_to_mirrorball(float3 d) {
  d.y -= 1.0f;
  float div = 2.0f * sqrtf(fmaxf(-0.5f * d.y, 0.0f));
  if (div > 0.0f) d = d / div;
  return {0.5f * (d.x + 1.0f), 0.5f * (d.z + 1.0f)};
}

// Environment Texture: the image seen along direction `co` (Repeat extension, as Cycles).
OPTICA_HD Texel4 svm_environment(const KernelScene &s, int32_t tex, int interpolation, int projection, float3 co) {
  float len = length(co);
  float3 d = len > 0.0f ? co / len : co;
  float2 uv = projection == kEnvMirrorBall ? direction_to_mirrorball(d) : direction_to_equirectangular(d);
  return texture_lookup(s, tex, uv.x, uv.y, interpolation, kExtRepeat, false);
}

}  // namespace optica
