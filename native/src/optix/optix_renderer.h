// The OptiX backend's renderer: the same scene reader and Scene as the CPU backend, mirrored to
// the device (DeviceScene), one launch per sample pass into device film buffers, cancel between
// launches, and host copies of the film for numpy.
#pragma once
#include <atomic>
#include <memory>

#include "film.h"
#include "optix/device_scene.h"
#include "optix/launch_params.h"
#include "optix/optix_pipeline.h"
#include "scene.h"
#include "thread_pool.h"

namespace optica {

class OptixRenderer {
 public:
  // Throws std::runtime_error naming what is missing when OptiX cannot run here.
  explicit OptixRenderer(int threads);
  // Device memory is freed with this renderer's context current, whichever thread drops it.
  ~OptixRenderer() { optix_.try_make_current(); }

  // Prepares `scene` on the host (light tables, and the CPU BVHs the scene reader's checks and
  // light tables rely on) and uploads it.
  void set_scene(std::unique_ptr<Scene> scene);
  // Geometries the last set_scene kept on the device (shared with the previous scene).
  size_t geometry_reused() const { return reused_; }
  bool has_scene() const { return scene_ != nullptr; }
  int accumulate(int n);
  void cancel() { cancel_.store(true); }
  void reset();
  int samples() const { return int(samples_); }
  int threads() const { return pool_.size(); }
  // The film's host copy, refreshed after every accumulate().
  std::shared_ptr<FilmBuffers> buffers() const { return host_; }
  // The device colour buffer: (height, width, 4) float32, valid until the next set_scene().
  CUdeviceptr color_device() const { return color_.ptr(); }
  const std::string &device_name() const { return optix_.device_name(); }
  // Nearest hits of n rays; all pointers are host memory, or all device memory when `on_device`.
  void intersect(const float *origins, const float *directions, size_t n, float *t, int32_t *prim, int32_t *obj,
                 bool on_device);

 private:
  void allocate_film();
  void launch(const LaunchParams &params, unsigned width, unsigned height);
  void download_film();

  ThreadPool pool_;  // the host-side scene preparation (BVHs for light tables, emissive triangles)
  OptixPipelineState optix_;
  DeviceScene device_scene_;
  std::unique_ptr<Scene> scene_;
  DeviceBuffer params_, color_, albedo_, normal_, depth_, object_id_;
  std::shared_ptr<FilmBuffers> host_;
  uint32_t samples_ = 0;
  size_t reused_ = 0;
  std::atomic<bool> cancel_{false};
};

}  // namespace optica
