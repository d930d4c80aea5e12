// One OptiX device context with the pipeline built from the embedded OptiX-IR (programs.cu) and
// its shader binding table: created once per renderer, shared by every scene it renders.
#pragma once
#include <optix_types.h>

#include <string>

#include "optix/device_buffer.h"

namespace optica {

class OptixPipelineState {
 public:
  // Throws std::runtime_error naming what failed (no device, a driver that rejects the IR, …).
  OptixPipelineState();
  ~OptixPipelineState();
  OptixPipelineState(const OptixPipelineState &) = delete;
  OptixPipelineState &operator=(const OptixPipelineState &) = delete;

  const CudaDriver &cu() const { return *cu_; }
  OptixDeviceContext context() const { return context_; }
  OptixPipeline pipeline() const { return pipeline_; }
  CUstream stream() const { return stream_; }
  const OptixShaderBindingTable &sbt() const { return sbt_; }
  const std::string &device_name() const { return device_name_; }
  // Makes this renderer's CUDA context current on the calling thread (launches come from any
  // Python thread); try_make_current() is for destructors (never throws).
  void make_current() const;
  bool try_make_current() const noexcept;

 private:
  void create_modules();
  void create_program_groups();
  void create_pipeline();
  void create_sbt();

  const CudaDriver *cu_ = nullptr;
  CUdevice device_ = 0;
  CUcontext cuda_context_ = nullptr;
  CUstream stream_ = nullptr;
  std::string device_name_;
  OptixDeviceContext context_ = nullptr;
  OptixModule module_ = nullptr, sphere_module_ = nullptr;
  // raygen, miss closest, miss shadow, hit groups [kind][ray type]
  OptixProgramGroup raygen_ = nullptr, miss_[2] = {nullptr, nullptr}, hit_[2][2] = {{nullptr, nullptr}, {nullptr, nullptr}};
  OptixPipeline pipeline_ = nullptr;
  OptixPipelineCompileOptions pipeline_options_{};
  OptixModuleCompileOptions module_options_{};
  DeviceBuffer raygen_record_, miss_records_, hit_records_;
  OptixShaderBindingTable sbt_{};
};

// Throws std::runtime_error("<what>: <OptiX error name>") unless `result` is OPTIX_SUCCESS.
void optix_check(int result, const char *what);

}  // namespace optica
