// Probes the OptiX runtime: the function table of the driver's libnvoptix.so.1 (filled by the
// headers' optixInit stub: no link-time dependency), the CUDA driver, and a device.
#include "optix/optix_probe.h"

#include <optix.h>
#include <optix_function_table_definition.h>  // the stubs' table: defined in this one file
#include <optix_stubs.h>

#include <mutex>
#include <stdexcept>

#include "optix/cuda_driver.h"
#include "optix/embedded_programs.h"

namespace optica {

namespace {

std::string optix_init_problem() {
  OptixResult r = optixInit();
  if (r == OPTIX_SUCCESS) return "";
  if (r == OPTIX_ERROR_LIBRARY_NOT_FOUND) return "driver library libnvoptix.so.1 not found";
  if (r == OPTIX_ERROR_ENTRY_SYMBOL_NOT_FOUND) return "libnvoptix.so.1 lacks optixQueryFunctionTable";
  if (r == OPTIX_ERROR_UNSUPPORTED_ABI_VERSION)
    return "the NVIDIA driver is too old for OptiX ABI " + std::to_string(OPTIX_ABI_VERSION) +
           " (OptiX 9.1 needs driver 580 or newer)";
  return "optixInit failed with code " + std::to_string(int(r));
}

OptixStatus probe() {
  OptixStatus s;
  if (optica_programs_ir_size == 0) {
    s.why = std::string("the device programs did not compile when this module was built: ") + optica_programs_ir_error;
    return s;
  }
  std::string optix_problem = optix_init_problem();
  std::string cuda_problem;
  const CudaDriver *cu = cuda_driver(cuda_problem);
  if (!optix_problem.empty() || !cu) {
    s.why = optix_problem;
    if (!cuda_problem.empty()) s.why += (s.why.empty() ? "" : "; ") + cuda_problem;
    return s;
  }
  int count = 0;
  if (cu->cuDeviceGetCount(&count) != CUDA_SUCCESS || count == 0) {
    s.why = "no CUDA device found";
    return s;
  }
  for (int i = 0; i < count; ++i) {
    CUdevice dev;
    char name[256] = {0};
    if (cu->cuDeviceGet(&dev, i) == CUDA_SUCCESS && cu->cuDeviceGetName(name, sizeof(name) - 1, dev) == CUDA_SUCCESS)
      s.devices.push_back(name);
  }
  s.usable = true;
  return s;
}

}  // namespace

const OptixStatus &optix_status() {
  static std::once_flag once;
  static OptixStatus status;
  std::call_once(once, [] { status = probe(); });
  return status;
}

void require_optix() {
  const OptixStatus &s = optix_status();
  if (!s.usable) throw std::runtime_error("OptiX: " + s.why);
}

}  // namespace optica
