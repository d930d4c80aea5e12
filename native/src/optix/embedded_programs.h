// The device programs (programs.cu) as OptiX-IR, embedded at build time by CMake
// (cmake/embed_file.cmake writes the array into the build folder).
#pragma once
#include <cstddef>

extern "C" const unsigned char optica_programs_ir[];
extern "C" const size_t optica_programs_ir_size;
