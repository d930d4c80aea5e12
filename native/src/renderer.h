// The renderer: a scene, a film and a thread pool. accumulate() adds samples tile by tile
// on every thread; cancel() makes it return once the tiles in progress are done.
#pragma once
#include <atomic>
#include <memory>

#include "film.h"
#include "scene.h"
#include "thread_pool.h"

namespace optica {

class Renderer {
 public:
  explicit Renderer(int threads);

  void set_scene(std::unique_ptr<Scene> scene);
  bool has_scene() const { return scene_ != nullptr; }
  // Adds up to n samples per pixel; returns how many every pixel received in this call.
  int accumulate(int n);
  // Stops the running accumulate(), or the next one if none runs; set_scene()/reset() drop a
  // pending cancel.
  void cancel() { cancel_.store(true); }
  void reset() { cancel_.store(false); film_.clear(); }
  int samples() const { return int(film_.min_samples()); }
  int threads() const { return pool_.size(); }
  // Adaptive sampling: a tile stops once every pixel's noise estimate is below `threshold`
  // (checked from `min_samples` on); 0 turns it off.
  void set_adaptive(float threshold, int min_samples);
  // Which AOV buffers (FilmAov bits) the film keeps; a change clears the film. Without
  // kAovNoise adaptive sampling is off (set_adaptive then refuses a threshold).
  void set_film_aovs(uint32_t aovs);
  bool all_converged() const;
  const Film &film() const { return film_; }
  const Scene *scene() const { return scene_.get(); }
  Film &film() { return film_; }
  // Nearest hits of n rays (directions need not be normalised; t is along the unit direction).
  void intersect(const float *origins, const float *directions, size_t n, float *t, int32_t *prim, int32_t *obj);

 private:
  void render_tile_sample(Tile &tile, FilmBuffers &fb);

  ThreadPool pool_;
  std::unique_ptr<Scene> scene_;
  Film film_;
  std::atomic<bool> cancel_{false};
  float adaptive_threshold_ = 0.0f;
  uint32_t adaptive_min_samples_ = 16;
};

}  // namespace optica
