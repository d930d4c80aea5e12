// Sky Texture: the sky models evaluated per direction from the data the host precomputed
// (optica_core/shading/sky.py), in Cycles' conventions (kernel/svm/sky.h): Preetham's
// analytic daylight, with the sun's zenith and azimuth measured as Cycles measures them.
#pragma once
#include "../defs.h"

namespace optica {

enum SkyModel : int32_t { kSkyPreetham = 0 };

// Perez et al.'s sky luminance distribution: theta from the zenith, gamma from the sun.
OPTICA_HD float sky_perez(const float *lam, float theta, float gamma) {
  float cg = cosf(gamma);
  return (1.0f + lam[0] * expf(lam[1] / cosf(theta))) * (1.0f + lam[2] * expf(lam[3] * gamma) + lam[4] * cg * cg);
}

// CIE xyY to linear Rec.709 (XYZ with a D65 white, Blender's XYZ role), negatives cut to zero.
OPTICA_HD float3 sky_xyY_to_rgb(float x, float y, float Y) {
  float X = y != 0.0f ? x / y * Y : 0.0f;
  float Z = (y != 0.0f && Y != 0.0f) ? (1.0f - x - y) / y * Y : 0.0f;
  float3 rgb = make3(3.2409699f * X - 1.5373832f * Y - 0.4986108f * Z,
                     -0.9692436f * X + 1.8759675f * Y + 0.0415551f * Z,
                     0.0556301f * X - 0.2039770f * Y + 1.0569715f * Z);
  return max3(rgb, make3(0.0f));
}

// data (Preetham): model, sun theta, sun phi, zenith Y, x, y, then Perez's five coefficients
// for Y, x and y. Directions below the horizon see the horizon (theta is clamped), as Cycles.
OPTICA_HD float3 svm_sky(const float *data, int count, float3 dir) {
  if (count < 21 || int(data[0]) != kSkyPreetham) return make3(0.0f);
  float sun_theta = data[1], sun_phi = data[2];
  float theta = acosf(clampf(dir.z, -1.0f, 1.0f));
  float phi = 0.5f * kPi - atan2f(dir.y, dir.x);
  float cos_gamma = sinf(sun_theta) * sinf(theta) * cosf(phi - sun_phi) + cosf(sun_theta) * cosf(theta);
  float gamma = acosf(clampf(cos_gamma, -1.0f, 1.0f));
  theta = minf(theta, 0.5f * kPi - 0.001f);
  float Y = data[3] * sky_perez(data + 6, theta, gamma);
  float x = data[4] * sky_perez(data + 11, theta, gamma);
  float y = data[5] * sky_perez(data + 16, theta, gamma);
  return sky_xyY_to_rgb(x, y, Y);
}

}  // namespace optica
