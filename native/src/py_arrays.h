// numpy views of film buffers and checked ray arrays: what every backend's bindings share.
#pragma once
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "film.h"

namespace optica {

namespace py = pybind11;

template <class T>
inline py::array film_view(const std::shared_ptr<FilmBuffers> &fb, std::vector<T> &data, int channels) {
  // The capsule keeps these buffers alive as long as the numpy array exists.
  auto *keep = new std::shared_ptr<FilmBuffers>(fb);
  py::capsule owner(keep, [](void *p) { delete static_cast<std::shared_ptr<FilmBuffers> *>(p); });
  std::vector<py::ssize_t> shape{fb->height, fb->width};
  std::vector<py::ssize_t> strides{py::ssize_t(sizeof(T)) * fb->width * channels, py::ssize_t(sizeof(T)) * channels};
  if (channels > 1) {
    shape.push_back(channels);
    strides.push_back(sizeof(T));
  }
  return py::array(py::dtype::of<T>(), shape, strides, data.data(), owner);
}

using RayArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

inline RayArray ray_array(const py::object &o, const char *name) {
  py::array raw = py::array::ensure(o);
  char kind = raw ? raw.dtype().kind() : 'O';
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw py::type_error(std::string(name) + ": expected an (N, 3) float32 array");
  RayArray a = RayArray::ensure(raw);
  if (!a) throw py::type_error(std::string(name) + ": expected an (N, 3) float32 array");
  if (a.ndim() != 2 || a.shape(1) != 3)
    throw py::value_error(std::string(name) + ": expected shape (N, 3), got ndim " + std::to_string(a.ndim()));
  const float *p = a.data();
  for (py::ssize_t i = 0; i < a.size(); ++i)
    if (!std::isfinite(p[i])) throw py::value_error(std::string(name) + ": contains NaN or Inf");
  return a;
}

// Origins and directions of Renderer.intersect, checked: same count, no zero direction.
struct RayBatch {
  RayArray origins, directions;
  size_t n;
};

inline RayBatch ray_batch(const py::object &origins, const py::object &directions) {
  RayBatch b{ray_array(origins, "origins"), ray_array(directions, "directions"), 0};
  if (b.origins.shape(0) != b.directions.shape(0))
    throw py::value_error("directions: expected " + std::to_string(b.origins.shape(0)) + " rays like origins, got " +
                          std::to_string(b.directions.shape(0)));
  b.n = size_t(b.origins.shape(0));
  const float *dp = b.directions.data();
  for (size_t i = 0; i < b.n; ++i)
    if (dp[3 * i] == 0.0f && dp[3 * i + 1] == 0.0f && dp[3 * i + 2] == 0.0f)
      throw py::value_error("directions[" + std::to_string(i) + "]: zero-length direction");
  return b;
}

}  // namespace optica
