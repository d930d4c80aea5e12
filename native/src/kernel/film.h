// The film's per-sample update, shared by every backend (the CPU renderer's tiles, the OptiX
// raygen): one path's result folded into the running means of one pixel.
#pragma once
#include "integrator.h"

namespace optica {

// One pixel's buffers, as plain pointers (host vectors or device memory alike). `half` (the
// mean of the even-numbered samples, for the adaptive noise estimate) may be null.
struct FilmPixel {
  float *color;       // RGBA: running mean of radiance and alpha
  float *half;        // RGB or null
  float *albedo;      // RGB: running mean
  float *normal;      // XYZ: running mean
  float *depth;       // the first sample's
  int32_t *object_id; // the first sample's
};

// Folds sample number `index` (0-based) into the pixel: a running mean keeps the buffers
// readable as an image after any number of samples, with no separate sample count per pixel.
OPTICA_HD void film_add_sample(const FilmPixel &f, const PathResult &r, uint32_t index) {
  float w = 1.0f / float(index + 1);
  float *c = f.color;
  c[0] += (r.radiance.x - c[0]) * w;
  c[1] += (r.radiance.y - c[1]) * w;
  c[2] += (r.radiance.z - c[2]) * w;
  c[3] += (r.alpha - c[3]) * w;
  if (f.half && (index & 1u) == 0) {
    float wh = 1.0f / float(index / 2 + 1);
    f.half[0] += (r.radiance.x - f.half[0]) * wh;
    f.half[1] += (r.radiance.y - f.half[1]) * wh;
    f.half[2] += (r.radiance.z - f.half[2]) * wh;
  }
  for (int i = 0; i < 3; ++i) {
    f.albedo[i] += (r.albedo[i] - f.albedo[i]) * w;
    f.normal[i] += (r.normal[i] - f.normal[i]) * w;
  }
  if (index == 0) {
    *f.depth = r.depth;
    *f.object_id = r.object_id;
  }
}

}  // namespace optica
