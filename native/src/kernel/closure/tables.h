// Precomputed BSDF albedo tables, as Cycles defines them (its cycles_precompute): the energy
// a single-scattering GGX lobe loses to masking (for multiscatter compensation), and the
// directional albedo of Fresnel-weighted lobes (for layering and sample weights). The data
// is computed by our own code (native/tools/precompute_bsdf_tables.cpp, which uses the
// kernel's microfacet functions) and lives in src/bsdf_tables.cpp; the kernel reads it
// through these pointers, so a GPU backend can place it where it likes.
//
// Parametrisation (Cycles'): x = roughness, y = cos θ (mu), z = IOR as sqrt(|(η−1)/(η+1)|)
// (so η = ior_from_F0(z⁴)), or for Schlick exponents z = 1 / (0.2 · exponent + 1).
#pragma once
#include "../defs.h"

namespace optica {

struct BsdfTables {
  const float *ggx_E;            // 32 × 32: albedo of GGX reflection, F = 1
  const float *ggx_Eavg;         // 32: its cosine-weighted average over mu
  const float *ggx_glass_E;      // 16³: albedo of GGX glass (dielectric Fresnel), η > 1
  const float *ggx_glass_Eavg;   // 16²
  const float *ggx_glass_inv_E;  // 16³: the same seen from inside, 1/η
  const float *ggx_glass_inv_Eavg;
  const float *ggx_gen_schlick_ior_s;  // 16³: F0→1 interpolation factor, real-Fresnel curve
  const float *ggx_gen_schlick_s;      // 16³: the same for a Schlick exponent
  const float *sheen_E;                // 32 × 32: albedo of the sheen lobe (sheen.h)
};

OPTICA_HD float table_read_1d(const float *t, float x, int size) {
  x = saturatef(x) * (size - 1);
  int i = int(x);
  if (i > size - 1) i = size - 1;
  int n = i + 1 < size ? i + 1 : size - 1;
  float f = x - float(i);
  return f == 0.0f ? t[i] : (1.0f - f) * t[i] + f * t[n];
}

OPTICA_HD float table_read_2d(const float *t, float x, float y, int nx, int ny) {
  y = saturatef(y) * (ny - 1);
  int i = int(y);
  if (i > ny - 1) i = ny - 1;
  int n = i + 1 < ny ? i + 1 : ny - 1;
  float f = y - float(i);
  float a = table_read_1d(t + nx * i, x, nx);
  return f == 0.0f ? a : (1.0f - f) * a + f * table_read_1d(t + nx * n, x, nx);
}

OPTICA_HD float table_read_3d(const float *t, float x, float y, float z, int nx, int ny, int nz) {
  z = saturatef(z) * (nz - 1);
  int i = int(z);
  if (i > nz - 1) i = nz - 1;
  int n = i + 1 < nz ? i + 1 : nz - 1;
  float f = z - float(i);
  float a = table_read_2d(t + nx * ny * i, x, y, nx, ny);
  return f == 0.0f ? a : (1.0f - f) * a + f * table_read_2d(t + nx * ny * n, x, y, nx, ny);
}

// The IOR coordinate of the glass and generalized-Schlick tables.
OPTICA_HD float table_ior_coordinate(float ior) { return sqrtf(fabsf((ior - 1.0f) / (ior + 1.0f))); }

}  // namespace optica
