// The world's importance map (kernel/world_sampling.h): built once per scene from the world
// program, at Cycles' automatic map resolution (world_map_resolution).
#pragma once
#include <vector>

#include "kernel/scene_data.h"

namespace optica {

class ThreadPool;

class WorldMap {
 public:
  // Evaluates the world of `k` (its program, textures and camera must be set) over the map
  // and builds the CDFs; leaves an empty map (nothing sampled) for a constant or black world.
  // `sun_half_angle` > 0: a sun disc along `sun_dir` is sampled apart from the map, chosen in
  // proportion to its share of the world's power (the radiance at its centre over its cone).
  void build(const KernelScene &k, int res_x, int res_y, ThreadPool &pool, float3 sun_dir = {0, 0, 1},
             float sun_half_angle = 0.0f);
  WorldMapView view() const;

 private:
  std::vector<float2> marginal_, conditional_;
  int res_x_ = 0, res_y_ = 0;
  float3 sun_dir_{0, 0, 1};
  float sun_cos_ = 1.0f, sun_prob_ = 0.0f;
};

// Cycles' automatic map resolution for a world reading `textures` (program texture table
// entries, -1 for a missing image): the largest width and height among them, but at least
// 4096 × 2048 — at least 512 × 256 when a sun disc is sampled apart (`sun_guided`). Map pixels
// as fine as the image's texels miss the light that Linear interpolation spreads half a texel
// beyond a hard, bright feature (a sun disk a few texels wide): sampled through the dim map
// pixel around it, that light came as fireflies (7× Cycles' noise on a floor under such a sun).
void world_map_resolution(const std::vector<int32_t> &program_textures, const TextureView *textures,
                          bool sun_guided, int &res_x, int &res_y);

}  // namespace optica
