// The native resample kernel alone, with no TensorFlow: a batch of
// three-channel float32 images through the pipeline's kind of transform
// (rotation, shear, zoom, shift) with "nearest" fill and the brightness
// steps, timed on the host's cores. For profiling the kernel (perf record)
// and for A/B runs of a change to it.
//
//   g++ -std=c++17 -O3 -march=x86-64-v3 -ffp-contract=off -fno-trapping-math \
//       -fno-math-errno -pthread -I augment_layers/native \
//       benchmarks/native/bench_kernel.cc -o /tmp/bench_kernel
//   /tmp/bench_kernel [batch=8] [side=1024] [turned=1] [reps=20] [fresh=0]
//
// (the flags are ``augment_layers.ops.native.FLAGS``). ``turned=0`` leaves
// out rotation and shear; ``fresh=1`` writes into a new allocation each
// repetition, as TensorFlow hands the op one. It prints the fastest and the
// median repetition in ms; AUGMENT_LAYERS_NATIVE_THREADS caps the threads.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "resample_kernel.h"

using namespace augment_layers;

int main(int argc, char** argv) {
  const int batch = argc > 1 ? std::atoi(argv[1]) : 8;
  const int side = argc > 2 ? std::atoi(argv[2]) : 1024;
  const bool turned = argc > 3 ? std::atoi(argv[3]) != 0 : true;
  const int reps = argc > 4 ? std::atoi(argv[4]) : 20;
  const bool fresh = argc > 5 ? std::atoi(argv[5]) != 0 : false;
  const int channels = 3;
  const size_t count = size_t{1} * batch * side * side * channels;
  std::vector<float> images(count);
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> value(0, 255), unit(-1, 1);
  for (auto& v : images) v = value(rng);
  const float degree = static_cast<float>(M_PI / 180);
  std::vector<float> matrices(batch * 6);
  for (int b = 0; b < batch; ++b) {
    const float theta = turned ? unit(rng) * 20 * degree : 0.0f;
    const float shear = turned ? unit(rng) * 10 * degree : 0.0f;
    const float zx = 1 + 0.2f * unit(rng), zy = 1 + 0.2f * unit(rng);
    float* m = &matrices[b * 6];
    m[0] = std::cos(theta) * zx;
    m[1] = -std::sin(theta) * zy + shear;
    m[2] = unit(rng) * 0.2f * side + 0.1f * side;
    m[3] = std::sin(theta) * zx;
    m[4] = std::cos(theta) * zy;
    m[5] = unit(rng) * 0.2f * side - 0.1f * side;
  }
  // Brightness: scale, then clip to [0, 255].
  std::vector<float> values(batch * 3 * channels);
  for (int b = 0; b < batch; ++b) {
    for (int c = 0; c < channels; ++c) {
      values[b * 9 + c] = 0.8f + 0.4f * (unit(rng) + 1) / 2;
      values[b * 9 + 3 + c] = 0.0f;
      values[b * 9 + 6 + c] = 255.0f;
    }
  }
  Geometry g{batch, side, side, channels, side, side, 2, kNearest, true,
             false, 0.0f};
  g.steps = "sc";
  g.n_steps = 2;
  g.values = values.data();
  g.value_rows = 3;
  float* out = static_cast<float*>(std::aligned_alloc(64, count * 4));
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    if (fresh) {
      std::free(out);
      out = static_cast<float*>(std::aligned_alloc(64, count * 4));
    }
    const auto start = std::chrono::steady_clock::now();
    Resample(images.data(), matrices.data(), out, g);
    const auto end = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (size_t i = 0; i < count; i += 997) sum += out[i];
  std::printf("batch %d at %d² (%s): fastest %.2f ms, median %.2f ms "
              "(checksum %.3f)\n", batch, side, turned ? "turned" : "not turned",
              ms[0], ms[ms.size() / 2], sum);
  std::free(out);
  return 0;
}
