// The kernel's levels (kernel.cc, built once per level) and the pick of the
// one the running CPU has. Included by each framework binding.
#pragma once

#include <cstdlib>
#include <cstring>

#include "resample_geometry.h"

extern "C" {
void augment_layers_resample_generic(const void* images,
                                     const float* matrices, float* out,
                                     const augment_layers::Geometry* g);
#if defined(__x86_64__)
void augment_layers_resample_x86_64_v3(const void* images,
                                       const float* matrices, float* out,
                                       const augment_layers::Geometry* g);
#endif
}

namespace augment_layers {

using KernelFn = void (*)(const void*, const float*, float*, const Geometry*);

// The level of the running CPU: x86-64-v3 (AVX2, FMA) where it has it, else
// the baseline. AUGMENT_LAYERS_NATIVE_LEVEL=generic forces the baseline (a
// host with FMA then fuses no multiply-add that XLA fuses: for tests of
// dispatch only).
inline KernelFn PickKernel() {
  static const KernelFn picked = [] {
    const char* level = std::getenv("AUGMENT_LAYERS_NATIVE_LEVEL");
    const bool force_generic = level && std::strcmp(level, "generic") == 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!force_generic && __builtin_cpu_supports("x86-64-v3")) {
      return &augment_layers_resample_x86_64_v3;
    }
#endif
    (void)force_generic;
    return &augment_layers_resample_generic;
  }();
  return picked;
}

// The name of the level PickKernel takes ("x86-64-v3" or "generic").
inline const char* KernelLevel() {
#if defined(__x86_64__)
  if (PickKernel() == &augment_layers_resample_x86_64_v3) return "x86-64-v3";
#endif
  return "generic";
}

}  // namespace augment_layers
