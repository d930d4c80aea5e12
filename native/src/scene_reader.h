#pragma once
#include <map>
#include <memory>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "scene.h"

namespace py = pybind11;

namespace optica {

// Geometry of the previous scene, keyed by the very array objects it was read from: a mesh
// whose arrays are the same objects again is reused with its BVH, not read and built again.
// (Arrays handed to set_scene are treated as immutable, see docs/core-api.md.)
struct GeometryCache {
  struct Entry {
    py::list arrays;
    std::shared_ptr<GeometryData> geometry;
  };
  std::map<std::string, Entry> entries;
  size_t reused = 0;  // geometries reused by the last read
};

// Builds a Scene from a validated scene dictionary; throws ValueError naming the key path.
// `previous` offers geometry to reuse; `next` receives this scene's geometry for next time.
// `programs`: the compiled shader programs of optica_core.shading ({"default", "world",
// "materials": {name: program}}), each checked here before the kernel may run it.
std::unique_ptr<Scene> scene_from_dict(const py::dict &d, const py::dict &programs, const GeometryCache &previous,
                                       GeometryCache &next);

}  // namespace optica
