// What the bindings of every backend's renderer do alike: build a scene from its dict and hand
// it over, and add samples — each with the GIL released and under the renderer's lock.
// `Py` holds `renderer` (with set_scene, has_scene, accumulate), `busy` and `geometry`.
#pragma once
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include <pybind11/pybind11.h>

#include "fp_mode.h"
#include "scene_reader.h"

namespace optica {

namespace py = pybind11;

template <class Py>
void set_scene_locked(Py &r, const py::dict &d, const py::dict &programs) {
  GeometryCache next;
  std::unique_ptr<Scene> scene;
  {
    KernelFpScope fp;  // the reader derives values (light normalisation, bounds) the kernel uses
    scene = scene_from_dict(d, programs, r.geometry, next);
  }
  std::string error;
  {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(r.busy);
    try {
      r.renderer.set_scene(std::move(scene));
    } catch (const std::invalid_argument &e) {
      error = e.what();
    }
  }
  if (!error.empty()) throw py::value_error(error);
  r.geometry = std::move(next);
}

template <class Py>
int accumulate_locked(Py &r, int n) {
  if (n < 0) throw py::value_error("accumulate: n must be >= 0, got " + std::to_string(n));
  if (!r.renderer.has_scene()) throw std::runtime_error("accumulate: no scene; call set_scene() first");
  py::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(r.busy);
  return r.renderer.accumulate(n);
}

}  // namespace optica
