// Device memory owned by one object (freed with it), through the run-time-loaded CUDA driver.
#pragma once
#include <cstddef>
#include <vector>

#include "optix/cuda_driver.h"

namespace optica {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(const CudaDriver *cu) : cu_(cu) {}
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  DeviceBuffer(DeviceBuffer &&o) noexcept { *this = static_cast<DeviceBuffer &&>(o); }
  DeviceBuffer &operator=(DeviceBuffer &&o) noexcept;
  ~DeviceBuffer() { release(); }

  // Grows (never shrinks) to at least `bytes`; the contents are undefined after growing.
  void reserve(size_t bytes);
  void upload(const void *data, size_t bytes);
  template <class T>
  void upload(const std::vector<T> &v) { upload(v.data(), v.size() * sizeof(T)); }
  void download(void *out, size_t bytes) const;
  void zero();
  void release();

  CUdeviceptr ptr() const { return ptr_; }
  size_t size() const { return size_; }
  template <class T>
  T *as() const { return reinterpret_cast<T *>(ptr_); }

 private:
  const CudaDriver *cu_ = nullptr;
  CUdeviceptr ptr_ = 0;
  size_t size_ = 0;
};

}  // namespace optica
