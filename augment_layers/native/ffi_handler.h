// The resample as an XLA typed-FFI handler, `AugmentLayersResampleFfi`:
// the one handler that TensorFlow's XLA kernel (resample.cc) and JAX
// (jax_binding.cc, registered with jax.ffi) lower the op to. It includes only
// XLA's FFI headers (a C ABI, stable across XLA releases), so it compiles
// against TensorFlow's copy or jaxlib's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kernel_entry.h"
#include "xla/ffi/api/ffi.h"

namespace augment_layers {

// The rows of values that `steps` reads ('c' two, 's' and 'a' one each);
// -1 for an unknown step.
inline int64_t StepRows(const std::string& steps) {
  int64_t rows = 0;
  for (char kind : steps) {
    if (kind == 'c') {
      rows += 2;
    } else if (kind == 's' || kind == 'a') {
      rows += 1;
    } else {
      return -1;
    }
  }
  return rows;
}

namespace ffi_binding {

namespace ffi = xla::ffi;

inline ffi::Error ResampleFfi(ffi::AnyBuffer images,
                              ffi::Buffer<ffi::F32> matrices,
                              ffi::Buffer<ffi::F32> values,
                              ffi::ResultBuffer<ffi::F32> out,
                              int32_t bilinear, int32_t fill_mode,
                              float fill_value, int32_t projective,
                              std::string_view steps_view) {
  const auto in_dims = images.dimensions();
  const auto m_dims = matrices.dimensions();
  const auto v_dims = values.dimensions();
  const auto out_dims = out->dimensions();
  const std::string steps(steps_view);
  if (images.element_type() != ffi::DataType::F32 &&
      images.element_type() != ffi::DataType::U8) {
    return ffi::Error::InvalidArgument(
        "augment_layers resample: images float32 or uint8");
  }
  if (in_dims.size() != 4 || m_dims.size() != 3 || out_dims.size() != 4 ||
      m_dims[2] != 3 || m_dims[0] != in_dims[0] ||
      (m_dims[1] != 3 && (m_dims[1] != 2 || projective != 0))) {
    return ffi::Error::InvalidArgument(
        "augment_layers resample: images (B, H, W, C), matrices (B, 2|3, 3)");
  }
  if (v_dims.size() != 3 || v_dims[0] != in_dims[0] ||
      v_dims[2] != in_dims[3] || v_dims[1] != StepRows(steps)) {
    return ffi::Error::InvalidArgument(
        "augment_layers resample: values (B, rows of the steps, C)");
  }
  Geometry g{in_dims[0],  in_dims[1],  in_dims[2],
                             in_dims[3],  out_dims[1], out_dims[2],
                             m_dims[1],   fill_mode,   bilinear != 0,
                             projective != 0, fill_value};
  g.steps = steps.c_str();
  g.n_steps = static_cast<int32_t>(steps.size());
  g.values = values.typed_data();
  g.value_rows = v_dims[1];
  g.uint8_source = images.element_type() == ffi::DataType::U8;
  PickKernel()(images.untyped_data(), matrices.typed_data(),
                               out->typed_data(), &g);
  return ffi::Error::Success();
}

}  // namespace ffi_binding
}  // namespace augment_layers

XLA_FFI_DEFINE_HANDLER_SYMBOL(
    AugmentLayersResampleFfi, augment_layers::ffi_binding::ResampleFfi,
    xla::ffi::Ffi::Bind()
        .Arg<xla::ffi::AnyBuffer>()
        .Arg<xla::ffi::Buffer<xla::ffi::F32>>()
        .Arg<xla::ffi::Buffer<xla::ffi::F32>>()
        .Ret<xla::ffi::Buffer<xla::ffi::F32>>()
        .Attr<int32_t>("bilinear")
        .Attr<int32_t>("fill_mode")
        .Attr<float>("fill_value")
        .Attr<int32_t>("projective")
        .Attr<std::string_view>("steps"));
