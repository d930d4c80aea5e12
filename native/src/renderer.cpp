#include "renderer.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "fp_mode.h"
#include "kernel/film.h"

namespace optica {

namespace {

// Hands the heap's free pages back to the system. A new scene frees the previous one's geometry
// and BVHs, and the build's temporaries were allocated on the pool's threads: glibc keeps such
// freed memory in its per-thread arenas (and, once large blocks were freed, serves the next
// large arrays from the heap instead of mmap), so without this Blender's RSS ratcheted up
// ~20-35 MB over a few hundred frames of Render Animation of a deforming mesh, while in use it
// stayed flat (measured: docs/reliability.md). Costs well under a millisecond per scene here.
void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace

Renderer::Renderer(int threads) : pool_(threads) {}

void Renderer::set_scene(std::unique_ptr<Scene> scene) {
  KernelFpScope fp;  // parts of the build run on the calling thread only
  cancel_.store(false);  // a cancel aimed at the previous scene's sampling is void now
  scene->prepare(pool_, scene_.get());
  // Trimming pays when geometry is freed; after a move or a view change (all geometry kept)
  // it only made the next scene fault its pages in again.
  bool geometry_freed = false;
  if (scene_) {
    std::unordered_set<const GeometryData *> kept;
    for (const auto &g : scene->geometries) kept.insert(g.get());
    for (const auto &g : scene_->geometries) geometry_freed |= kept.count(g.get()) == 0;
  }
  scene_ = std::move(scene);  // frees the previous scene
  film_.resize(scene_->settings.region_w, scene_->settings.region_h);
  if (geometry_freed) release_free_memory();
}

void Renderer::render_tile_sample(Tile &tile, FilmBuffers &fb) {
  const KernelScene &k = scene_->kernel();
  const RenderSettings &s = scene_->settings;
  uint32_t index = tile.samples;
  // AOVs the film does not keep are written to a scratch pixel (the kernel writes them all).
  float scratch[7];
  int32_t scratch_id;
  for (int y = tile.y0; y < tile.y1; ++y) {
    for (int x = tile.x0; x < tile.x1; ++x) {
      PathResult r = trace_path(k, x + s.region_x, y + s.region_y, index);
      size_t p = size_t(y) * fb.width + x;
      film_add_sample({&fb.color[4 * p], fb.half.empty() ? nullptr : &fb.half[3 * p],
                       fb.albedo.empty() ? scratch : &fb.albedo[3 * p],
                       fb.normal.empty() ? scratch + 3 : &fb.normal[3 * p], fb.depth.empty() ? scratch + 6 : &fb.depth[p],
                       fb.object_id.empty() ? &scratch_id : &fb.object_id[p]},
                      r, index);
    }
  }
  tile.samples = index + 1;
  if (adaptive_threshold_ > 0.0f && tile.samples >= adaptive_min_samples_ && (tile.samples & 1u) == 0) {
    float worst = 0.0f;
    for (int y = tile.y0; y < tile.y1; ++y)
      for (int x = tile.x0; x < tile.x1; ++x) worst = std::max(worst, pixel_error(fb, size_t(y) * fb.width + x));
    tile.converged = worst < adaptive_threshold_;
  }
}

void Renderer::set_adaptive(float threshold, int min_samples) {
  if (threshold > 0.0f && !(film_.aovs() & kAovNoise))
    throw std::invalid_argument("set_adaptive: adaptive sampling needs the film's noise estimate ('noise' in "
                                "set_film_aovs)");
  adaptive_threshold_ = threshold;
  adaptive_min_samples_ = uint32_t(std::max(2, min_samples));
  for (auto &t : film_.tiles()) t.converged = false;
}

void Renderer::set_film_aovs(uint32_t aovs) {
  if (!(aovs & kAovNoise)) adaptive_threshold_ = 0.0f;  // nothing left to estimate the noise with
  film_.set_aovs(aovs);
}

bool Renderer::all_converged() const {
  if (adaptive_threshold_ <= 0.0f) return false;
  for (const auto &t : film_.tiles())
    if (!t.converged) return false;
  return true;
}

int Renderer::accumulate(int n) {
  if (!scene_ || n <= 0) return 0;
  KernelFpScope fp;
  uint32_t before = film_.min_samples();
  // Every tile is brought to the same target, one sample pass over the image at a time:
  // the image refines evenly, and after a cancel the tiles that fell behind catch up first,
  // so a pixel's value never depends on when a cancel happened.
  uint32_t target = before + uint32_t(n);
  std::shared_ptr<FilmBuffers> fb = film_.buffers();
  std::vector<Tile> &tiles = film_.tiles();
  for (uint32_t pass = before; pass < target; ++pass) {
    pool_.parallel_for(int64_t(tiles.size()), [&](int64_t i, int) {
      if (cancel_.load(std::memory_order_relaxed)) return;
      if (tiles[i].samples <= pass && !tiles[i].converged) render_tile_sample(tiles[i], *fb);
    });
    if (cancel_.load(std::memory_order_relaxed) || all_converged()) break;
  }
  // A cancel is consumed by the accumulate() it stopped, even one requested just before this
  // call began (the caller's cancel must never be lost to a race with the start).
  cancel_.store(false);
  return int(film_.min_samples() - before);
}

void Renderer::intersect(const float *origins, const float *directions, size_t n, float *t, int32_t *prim,
                         int32_t *obj) {
  KernelFpScope fp;
  const KernelScene *k = scene_ ? &scene_->kernel() : nullptr;
  constexpr size_t kChunk = 4096;
  int64_t chunks = int64_t((n + kChunk - 1) / kChunk);
  pool_.parallel_for(chunks, [&](int64_t c, int) {
    size_t end = std::min(n, size_t(c + 1) * kChunk);
    for (size_t i = size_t(c) * kChunk; i < end; ++i) {
      Ray ray;
      ray.o = make3(origins[3 * i], origins[3 * i + 1], origins[3 * i + 2]);
      ray.d = normalize(make3(directions[3 * i], directions[3 * i + 1], directions[3 * i + 2]));
      ray.tmin = 0.0f;
      ray.tmax = kInf;
      ray.time = k ? k->shutter.frame_time : 0.0f;  // the frame's own positions
      Hit hit;
      if (k && intersect_closest(*k, ray, hit)) {
        t[i] = hit.t;
        prim[i] = int32_t(hit.prim);
        obj[i] = k->instances[hit.instance].object_id;
      } else {
        t[i] = kInf;
        prim[i] = -1;
        obj[i] = -1;
      }
    }
  });
}

}  // namespace optica
