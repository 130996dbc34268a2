// What a resample is asked to do: the one struct every binding fills and
// every level of the kernel reads (no framework, no instruction-set flags).
#pragma once

#include <cstdint>
#include <string>

namespace augment_layers {

enum Fill : int32_t { kConstant = 0, kNearest = 1, kReflect = 2, kWrap = 3 };

struct Geometry {
  int64_t batch, height, width, channels, out_height, out_width;
  int64_t matrix_rows;  // 2 (affine) or 3
  int32_t fill;
  bool bilinear;
  bool projective;
  float fill_value;
  // The images are uint8 (read as the floats they are) instead of float32.
  bool uint8_source = false;
  // Colour steps applied to each output value after the resample, in order
  // (augment_layers.ops.color.apply_steps): 's' multiplies, 'a' adds, 'c'
  // clips to [low, high]; their values are (batch, value_rows, channels),
  // one row for 's' and 'a', two for 'c'.
  const char* steps = "";
  int32_t n_steps = 0;
  const float* values = nullptr;
  int64_t value_rows = 0;
};

inline int32_t FillCode(const std::string& mode) {
  if (mode == "constant") return kConstant;
  if (mode == "reflect") return kReflect;
  if (mode == "wrap") return kWrap;
  return kNearest;
}

}  // namespace augment_layers
