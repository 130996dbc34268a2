// The framework-free binding of the resample kernel: one library that JAX
// and PyTorch load (TensorFlow's op has its own, resample.cc).
//
// - `AugmentLayersResampleFfi`: the typed-FFI handler of ffi_handler.h,
//   registered with JAX as the CPU target `augment_layers_resample`
//   (`jax.ffi.register_ffi_target`, ops/native.py), so that a `jax.jit` step
//   lowers the resample to one custom call into the kernel;
// - `augment_layers_resample`: a plain C entry (the kernel level of the
//   running CPU), which PyTorch's custom op `augment_layers::resample` calls
//   through ctypes on CPU tensors.
//
// Compiled against XLA's FFI headers only (a C ABI, stable across XLA
// releases: jaxlib's copy where JAX is installed, else TensorFlow's).

#include "ffi_handler.h"

extern "C" __attribute__((visibility("default"))) void augment_layers_resample(
    const void* images, const float* matrices, float* out,
    const augment_layers::Geometry* geometry) {
  augment_layers::PickKernel()(images, matrices, out, geometry);
}

// The kernel level this process runs ("x86-64-v3" or "generic").
extern "C" __attribute__((visibility("default"))) const char*
augment_layers_native_level() {
  return augment_layers::KernelLevel();
}
