// OptixRenderer: scene upload, sample-pass launches with cancel between them, film readback.
#include "optix/optix_renderer.h"

#include <optix.h>
#include <stdexcept>
#include <optix_stubs.h>

#include "optix/launch_params.h"

namespace optica {

OptixRenderer::OptixRenderer(int threads)
    : pool_(threads), optix_(), device_scene_(optix_), params_(&optix_.cu()), color_(&optix_.cu()),
      albedo_(&optix_.cu()), normal_(&optix_.cu()), depth_(&optix_.cu()), object_id_(&optix_.cu()) {}

void OptixRenderer::set_scene(std::unique_ptr<Scene> scene) {
  // Its acceleration structures hold the frame's positions only (optica_core.device.check_scene
  // refuses such scenes first, with the same reason).
  if (scene->motion.enabled)
    throw std::invalid_argument("motion blur: the OptiX backend does not render motion steps yet; use device CPU");
  cancel_.store(false);
  scene->prepare(pool_);
  reused_ = device_scene_.upload(*scene);
  scene_ = std::move(scene);
  allocate_film();
}

void OptixRenderer::allocate_film() {
  const RenderSettings &s = scene_->settings;
  size_t pixels = size_t(s.region_w) * size_t(s.region_h);
  color_.reserve(pixels * 4 * sizeof(float) + 1);
  albedo_.reserve(pixels * 3 * sizeof(float) + 1);
  normal_.reserve(pixels * 3 * sizeof(float) + 1);
  depth_.reserve(pixels * sizeof(float) + 1);
  object_id_.reserve(pixels * sizeof(int32_t) + 1);
  reset();
}

void OptixRenderer::reset() {
  cancel_.store(false);
  samples_ = 0;
  if (!scene_) return;
  optix_.make_current();
  for (DeviceBuffer *b : {&color_, &albedo_, &normal_, &depth_, &object_id_}) b->zero();
  // A fresh host copy: numpy views of the previous one keep their data.
  host_ = std::make_shared<FilmBuffers>(scene_->settings.region_w, scene_->settings.region_h);
}

void OptixRenderer::launch(const LaunchParams &params, unsigned width, unsigned height) {
  if (width == 0 || height == 0) return;
  params_.upload(&params, sizeof(params));
  optix_check(optixLaunch(optix_.pipeline(), optix_.stream(), params_.ptr(), sizeof(params), &optix_.sbt(), width,
                          height, 1),
              "optixLaunch");
  cuda_check(optix_.cu(), optix_.cu().cuStreamSynchronize(optix_.stream()), "cuStreamSynchronize");
}

int OptixRenderer::accumulate(int n) {
  if (!scene_ || n <= 0) return 0;
  optix_.make_current();
  const RenderSettings &s = scene_->settings;
  LaunchParams p{};
  p.scene = device_scene_.kernel();
  p.top = device_scene_.top();
  p.mode = kLaunchRender;
  p.film = DeviceFilm{color_.as<float>(), albedo_.as<float>(), normal_.as<float>(), depth_.as<float>(),
                      object_id_.as<int32_t>(), s.region_w, s.region_h, s.region_x, s.region_y};
  int done = 0;
  // One launch is one sample of every pixel: a cancel lands between launches, and every pixel
  // always has the same count.
  for (; done < n && !cancel_.load(std::memory_order_relaxed); ++done) {
    p.sample = samples_;
    launch(p, unsigned(s.region_w), unsigned(s.region_h));
    ++samples_;
  }
  cancel_.store(false);
  download_film();
  return done;
}

void OptixRenderer::download_film() {
  FilmBuffers &h = *host_;
  color_.download(h.color.data(), h.color.size() * sizeof(float));
  albedo_.download(h.albedo.data(), h.albedo.size() * sizeof(float));
  normal_.download(h.normal.data(), h.normal.size() * sizeof(float));
  depth_.download(h.depth.data(), h.depth.size() * sizeof(float));
  object_id_.download(h.object_id.data(), h.object_id.size() * sizeof(int32_t));
}

void OptixRenderer::intersect(const float *origins, const float *directions, size_t n, float *t, int32_t *prim,
                              int32_t *obj, bool on_device) {
  if (n == 0) return;
  optix_.make_current();
  LaunchParams p{};
  p.scene = device_scene_.kernel();
  p.top = device_scene_.top();
  p.mode = kLaunchIntersect;
  DeviceBuffer o(&optix_.cu()), d(&optix_.cu()), tb(&optix_.cu()), pb(&optix_.cu()), ob(&optix_.cu());
  if (on_device) {
    p.rays = DeviceRayQuery{reinterpret_cast<const float *>(origins), reinterpret_cast<const float *>(directions), t, prim,
                            obj, uint32_t(n)};
  } else {
    o.upload(origins, n * 3 * sizeof(float));
    d.upload(directions, n * 3 * sizeof(float));
    tb.reserve(n * sizeof(float));
    pb.reserve(n * sizeof(int32_t));
    ob.reserve(n * sizeof(int32_t));
    p.rays = DeviceRayQuery{o.as<const float>(), d.as<const float>(), tb.as<float>(), pb.as<int32_t>(), ob.as<int32_t>(),
                            uint32_t(n)};
  }
  launch(p, unsigned(n), 1);
  if (!on_device) {
    tb.download(t, n * sizeof(float));
    pb.download(prim, n * sizeof(int32_t));
    ob.download(obj, n * sizeof(int32_t));
  }
}

}  // namespace optica
