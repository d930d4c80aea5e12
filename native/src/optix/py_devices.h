// The devices' Python surface in optica_core._native: what OptiX can do here (optix_status),
// copies out of CUDA device memory, and the OptiX renderer when it was built.
#pragma once
#include <pybind11/pybind11.h>

namespace optica {

void register_devices(pybind11::module_ &m);

}  // namespace optica
