// One instruction-set level of the resample kernel, with a C entry point.
//
// ops/native.py compiles this file once per level, each time with its own
// -march and its own AL_KERNEL_SYMBOL (x86-64-v3: AVX2 and FMA; generic: the
// compiler's baseline), and links both into the library; resample.cc picks
// the level the running CPU has (`__builtin_cpu_supports`), so that a library
// built on one host runs on any host of the architecture. Only this file sees
// the level's flags: the framework headers (Eigen's among them) are compiled
// for the baseline, whatever the host.

#include "resample_kernel.h"

#ifndef AL_KERNEL_SYMBOL
#error "AL_KERNEL_SYMBOL names this level's entry point"
#endif

extern "C" __attribute__((visibility("default"))) void AL_KERNEL_SYMBOL(
    const void* images, const float* matrices, float* out,
    const augment_layers::Geometry* geometry) {
  augment_layers::Resample(images, matrices, out, *geometry);
}
