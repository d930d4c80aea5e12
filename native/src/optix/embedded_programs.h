// The device programs (programs.cu) as OptiX-IR, embedded at build time by CMake
// (optix_ir.py writes the array into the build folder). When nvcc failed, the size is 0
// and `optica_programs_ir_error` says why.
#pragma once
#include <cstddef>

extern "C" const unsigned char optica_programs_ir[];
extern "C" const size_t optica_programs_ir_size;
extern "C" const char *const optica_programs_ir_error;
