// Whether the OptiX backend can run on this machine, and if not, what is missing.
#pragma once
#include <string>
#include <vector>

namespace optica {

struct OptixStatus {
  bool usable = false;
  std::string why;                   // what is missing when not usable
  std::vector<std::string> devices;  // names of the CUDA devices found
};

// Loads the driver's OptiX library (optixInit) and the CUDA driver, and counts devices; probed
// once per process. Never throws.
const OptixStatus &optix_status();

// Throws std::runtime_error("OptiX: <what is missing>") unless the backend can run.
void require_optix();

}  // namespace optica
