# The OptiX backend of _native: built only when nvcc and NVIDIA's OptiX headers are found.
# The headers are read where they lie (OPTIX_ROOT, or ../shared/third_party/optix next to the
# checkout) and never copied into the build products: NVIDIA's SDK licence allows building with
# them, not redistributing them. OPTICA_OPTIX=OFF skips the backend; ON makes its absence an error.
set(OPTICA_OPTIX "AUTO" CACHE STRING "Build the OptiX backend: AUTO, ON or OFF")
set(OPTICA_OPTIX_DIR ${CMAKE_CURRENT_LIST_DIR})

set(_optix_why "")
if(OPTICA_OPTIX STREQUAL "OFF")
  set(_optix_why "OPTICA_OPTIX=OFF")
else()
  set(_optix_roots "")
  if(DEFINED OPTIX_ROOT)
    list(APPEND _optix_roots ${OPTIX_ROOT})
  endif()
  if(DEFINED ENV{OPTIX_ROOT})
    list(APPEND _optix_roots $ENV{OPTIX_ROOT})
  endif()
  get_filename_component(_checkout_parent ${CMAKE_CURRENT_SOURCE_DIR}/../.. ABSOLUTE)
  list(APPEND _optix_roots ${_checkout_parent}/shared/third_party/optix)
  set(OPTICA_OPTIX_INCLUDE "")
  foreach(_root IN LISTS _optix_roots)
    if(NOT OPTICA_OPTIX_INCLUDE AND EXISTS ${_root}/include/optix.h)
      set(OPTICA_OPTIX_INCLUDE ${_root}/include)
    endif()
  endforeach()
  find_package(CUDAToolkit QUIET)
  # find_package caches the toolkit's location: one removed since is caught here.
  if(NOT OPTICA_OPTIX_INCLUDE)
    set(_optix_why "OptiX headers not found (set OPTIX_ROOT, or put them in ${_checkout_parent}/shared/third_party/optix)")
  elseif(NOT CUDAToolkit_FOUND OR NOT CUDAToolkit_NVCC_EXECUTABLE OR NOT EXISTS ${CUDAToolkit_NVCC_EXECUTABLE})
    set(_optix_why "nvcc (the CUDA toolkit) not found")
  endif()
endif()

# What the module says when asked why the backend is missing (optica_core.devices()).
file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/optica_optix_config.h
     CONTENT "#define OPTICA_OPTIX_NOT_BUILT_WHY \"@_optix_why@\"\n" @ONLY)
target_include_directories(_native PRIVATE ${CMAKE_CURRENT_BINARY_DIR})
if(_optix_why)
  if(OPTICA_OPTIX STREQUAL "ON")
    message(FATAL_ERROR "Optica: OPTICA_OPTIX=ON but ${_optix_why}")
  endif()
  message(STATUS "Optica: OptiX backend not built: ${_optix_why}")
  return()
endif()

message(STATUS "Optica: OptiX backend built (headers ${OPTICA_OPTIX_INCLUDE}, nvcc ${CUDAToolkit_NVCC_EXECUTABLE})")
file(GLOB_RECURSE _kernel_headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/kernel/*.h)
set(_ir ${CMAKE_CURRENT_BINARY_DIR}/optica_programs.optixir)
set(_ir_cpp ${CMAKE_CURRENT_BINARY_DIR}/optica_programs_ir.cpp)
# compute_75 (Turing) is the oldest architecture OptiX's built-in spheres run on; the driver
# compiles the IR for the GPU it finds. Recompiled only when programs.cu or a header it reads changes.
add_custom_command(
  OUTPUT ${_ir_cpp}
  COMMAND ${Python_EXECUTABLE} ${OPTICA_OPTIX_DIR}/optix_ir.py ${_ir_cpp} --
          ${CUDAToolkit_NVCC_EXECUTABLE} -std=c++17 -optix-ir -arch=compute_75 -I${CMAKE_CURRENT_SOURCE_DIR}/src
          -I${OPTICA_OPTIX_INCLUDE} ${OPTICA_OPTIX_DIR}/programs.cu -o ${_ir}
  DEPENDS ${OPTICA_OPTIX_DIR}/programs.cu ${OPTICA_OPTIX_DIR}/launch_params.h ${OPTICA_OPTIX_DIR}/optix_ir.py
          ${_kernel_headers}
  COMMENT "Compiling the OptiX device programs to OptiX-IR (nvcc -optix-ir) and embedding them"
  VERBATIM)
target_sources(_native PRIVATE
  ${_ir_cpp}
  ${OPTICA_OPTIX_DIR}/cuda_driver.cpp
  ${OPTICA_OPTIX_DIR}/device_buffer.cpp
  ${OPTICA_OPTIX_DIR}/device_scene.cpp
  ${OPTICA_OPTIX_DIR}/optix_pipeline.cpp
  ${OPTICA_OPTIX_DIR}/optix_probe.cpp
  ${OPTICA_OPTIX_DIR}/optix_renderer.cpp)
target_include_directories(_native PRIVATE ${OPTICA_OPTIX_INCLUDE} ${CUDAToolkit_INCLUDE_DIRS})
target_compile_definitions(_native PRIVATE OPTICA_WITH_OPTIX=1)
# The driver's libraries are opened at run time (dlopen): nothing CUDA is linked.
target_link_libraries(_native PRIVATE ${CMAKE_DL_LIBS})
set_source_files_properties(${_ir_cpp} PROPERTIES COMPILE_OPTIONS "-O0")
