#pragma once
#include <memory>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "scene.h"

namespace py = pybind11;

namespace optica {

// Builds a Scene from a validated scene dictionary; throws ValueError naming the key path.
std::unique_ptr<Scene> scene_from_dict(const py::dict &d);

}  // namespace optica
