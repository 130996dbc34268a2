// The resample kernel itself, with no TensorFlow or XLA dependency
// (resample.cc registers it; bench_kernel.cc times it alone).
#pragma once

#include <sched.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

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

// The steps on n pixels of image b, as XLA computes them: one rounding per
// multiply and per add, clips by max then min (NaN stays NaN).
template <int kChannels>
static void ApplySteps(float* o, int n, int64_t b, const Geometry& g) {
  const int64_t channels = kChannels > 0 ? kChannels : g.channels;
  const float* v = g.values + b * g.value_rows * channels;
  for (int32_t s = 0; s < g.n_steps; ++s) {
    const char kind = g.steps[s];
    if (kind == 'c') {
      const float* lo = v;
      const float* hi = v + channels;
      v += 2 * channels;
      for (int j = 0; j < n; ++j, o += channels) {
        for (int64_t c = 0; c < channels; ++c) {
          o[c] = std::min(std::max(o[c], lo[c]), hi[c]);
        }
      }
    } else if (kind == 's') {
      for (int j = 0; j < n; ++j, o += channels) {
        for (int64_t c = 0; c < channels; ++c) o[c] = o[c] * v[c];
      }
      v += channels;
    } else {
      for (int j = 0; j < n; ++j, o += channels) {
        for (int64_t c = 0; c < channels; ++c) o[c] = o[c] + v[c];
      }
      v += channels;
    }
    o -= n * channels;
  }
}

// a * b + c as XLA:CPU computes it on this host: one rounding where the host
// has FMA (-march=native), two where it does not.
static inline float MulAdd(float a, float b, float c) {
#ifdef __FP_FAST_FMAF
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

// XLA's float -> int32 conversion: saturating, NaN to 0.
static inline int32_t ToInt32(float v) {
  if (std::isnan(v)) return 0;
  if (v >= 2147483648.0f) return INT32_MAX;
  if (v < -2147483648.0f) return INT32_MIN;
  return static_cast<int32_t>(v);
}

// tf.math.floormod on int32.
static inline int32_t FloorMod(int32_t a, int32_t n) {
  int32_t r = a % n;
  if (r != 0 && ((r < 0) != (n < 0))) r += n;
  return r;
}

template <int32_t kFill>
static inline int32_t MapIndex(int32_t i, int32_t size) {
  if (kFill == kWrap) return FloorMod(i, size);
  if (kFill == kReflect) {
    const int32_t period = 2 * size;
    i = FloorMod(i, period);
    return i >= size ? period - 1 - i : i;
  }
  return i < 0 ? 0 : (i > size - 1 ? size - 1 : i);
}

// ToInt32 without branches (vectorizable): the same values.
static inline int32_t ToInt32Select(float v) {
  float clamped = v < -2147483648.0f ? -2147483648.0f : v;
  clamped = clamped > 2147483520.0f ? 2147483520.0f : clamped;
  int32_t i = static_cast<int32_t>(clamped);
  i = v >= 2147483648.0f ? INT32_MAX : i;
  return v == v ? i : 0;
}

template <int32_t kFill>
static inline int32_t MapIndexFast(int32_t i, int32_t size) {
  if (kFill == kNearest || kFill == kConstant) {
    return i < 0 ? 0 : (i > size - 1 ? size - 1 : i);
  }
  // Inside the image (most points), no modulo.
  return static_cast<uint32_t>(i) < static_cast<uint32_t>(size)
             ? i : MapIndex<kFill>(i, size);
}

#ifndef AL_BLOCK
#define AL_BLOCK 1024
#endif
#ifndef AL_PREFETCH
#define AL_PREFETCH 32
#endif
constexpr int kBlock = AL_BLOCK;
constexpr int kPrefetch = AL_PREFETCH;

// Output rows [row_begin, row_end) of the flattened (batch * out_height),
// in blocks of kBlock pixels: first every coordinate, weight and neighbour
// offset of the block (a loop the compiler vectorizes), then the reads and
// blends, every channel of a neighbour from one cache line.
#if defined(__AVX2__) && defined(__FMA__)
// Eight values from p as floats (exact for uint8).
static inline __m256 Load8(const float* p) { return _mm256_loadu_ps(p); }
static inline __m256 Load8(const uint8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
      _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
#endif

template <typename T, int kChannels, bool kBilinear, int32_t kFill,
          bool kProjective>
static void ResampleRows(const void* source, const float* matrices,
                         float* out, const Geometry& g, int64_t row_begin,
                         int64_t row_end) {
  const T* images = static_cast<const T*>(source);
  const int64_t channels = kChannels > 0 ? kChannels : g.channels;
  const int32_t height = static_cast<int32_t>(g.height);
  const int32_t width = static_cast<int32_t>(g.width);
  const float tolerance = 1e-3f;
  const float upper_x = (static_cast<float>(g.width) - 1.0f) + tolerance;
  const float upper_y = (static_cast<float>(g.height) - 1.0f) + tolerance;
  const float fill_value = g.fill_value;
  alignas(64) float wxs[kBlock], wys[kBlock];
  alignas(64) int32_t o00[kBlock], o01[kBlock], o10[kBlock], o11[kBlock];
  alignas(64) uint8_t inside[kBlock];
#if defined(__AVX2__) && defined(__FMA__)
  // The last pixel offset from which 8 floats can be read in the image.
  const int32_t last_wide = static_cast<int32_t>(
      g.height * g.width - (8 + channels - 1) / channels);
  // Lanes of the right-hand neighbour: the same pixel (x1 == x0) or the
  // next one.
  const __m256i kPick[2] = {
      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
      _mm256_setr_epi32(kChannels, kChannels + 1, kChannels + 2,
                        kChannels + 3, 7, 7, 7, 7)};
#endif
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t b = r / g.out_height;
    const float y = static_cast<float>(r % g.out_height);
    const float* m = matrices + b * g.matrix_rows * 3;
    const T* image = images + b * g.height * g.width * channels;
    float* o = out + r * g.out_width * channels;
    // Per row, the y terms (the same product XLA forms per pixel).
    const float m0 = m[0], m2 = m[2], m3 = m[3], m5 = m[5];
    const float my0 = m[1] * y, my1 = m[4] * y;
    const float m6 = kProjective ? m[6] : 0.0f, m8 = kProjective ? m[8] : 0.0f;
    const float my2 = kProjective ? m[7] * y : 0.0f;
    for (int64_t x_begin = 0; x_begin < g.out_width; x_begin += kBlock) {
      const int n = static_cast<int>(
          std::min<int64_t>(kBlock, g.out_width - x_begin));
      for (int j = 0; j < n; ++j) {
        const float x = static_cast<float>(x_begin + j);
        float sx, sy;
        if (kProjective) {
          // XLA fuses no multiply-add here (the divide's operands).
          const float w = (m6 * x + my2) + m8;
          sx = ((m0 * x + my0) + m2) / w;
          sy = ((m3 * x + my1) + m5) / w;
        } else {
          sx = MulAdd(m0, x, my0) + m2;
          sy = MulAdd(m3, x, my1) + m5;
        }
        if (kFill == kConstant) {
          inside[j] = (sx >= -tolerance) & (sx <= upper_x) &
                      (sy >= -tolerance) & (sy <= upper_y);
        }
        if (!kBilinear) {
          const int32_t ix =
              MapIndexFast<kFill>(ToInt32Select(std::floor(sx + 0.5f)), width);
          const int32_t iy =
              MapIndexFast<kFill>(ToInt32Select(std::floor(sy + 0.5f)), height);
          o00[j] = iy * width + ix;
          continue;
        }
        const float x0f = std::floor(sx);
        const float y0f = std::floor(sy);
        wxs[j] = sx - x0f;
        wys[j] = sy - y0f;
        const int32_t x0 = MapIndexFast<kFill>(ToInt32Select(x0f), width);
        const int32_t x1 =
            MapIndexFast<kFill>(ToInt32Select(std::ceil(sx)), width);
        const int32_t row0 =
            MapIndexFast<kFill>(ToInt32Select(y0f), height) * width;
        const int32_t row1 =
            MapIndexFast<kFill>(ToInt32Select(std::ceil(sy)), height) * width;
        o00[j] = row0 + x0;
        o01[j] = row0 + x1;
        o10[j] = row1 + x0;
        o11[j] = row1 + x1;
      }
      float* ob = o + x_begin * channels;
      for (int j = 0; j < n; ++j, ob += channels) {
        if (kFill == kConstant && !inside[j]) {
          for (int64_t c = 0; c < channels; ++c) ob[c] = fill_value;
          continue;
        }
        if (!kBilinear) {
          const T* p = image + static_cast<int64_t>(o00[j]) * channels;
          for (int64_t c = 0; c < channels; ++c) {
            ob[c] = static_cast<float>(p[c]);
          }
          continue;
        }
        // The reads of a turned image walk across source rows, which the
        // hardware prefetcher does not follow: ask for them ahead.
        if (j + kPrefetch < n) {
          __builtin_prefetch(image + static_cast<int64_t>(o00[j + kPrefetch]) *
                                         channels);
          __builtin_prefetch(image + static_cast<int64_t>(o10[j + kPrefetch]) *
                                         channels);
        }
        const float wx = wxs[j], wy = wys[j];
#if defined(__AVX2__) && defined(__FMA__)
        // Three or four channels: each source row's two neighbours in one
        // 8-float load (x1 is x0 or x0 + 1: the common case), the same
        // fused operations lane by lane; the last pixel of a block, and
        // reads that would pass the end of the image, take the scalar
        // loop below.
        if ((kChannels == 3 || kChannels == 4) && j + 1 < n &&
            static_cast<uint32_t>(o01[j] - o00[j]) <= 1u &&
            std::max(o00[j], o10[j]) <= last_wide) {
          const __m256 top = Load8(image + int64_t{o00[j]} * kChannels);
          const __m256 bottom = Load8(image + int64_t{o10[j]} * kChannels);
          const __m256i pick = kPick[o01[j] - o00[j]];
          const __m256 w = _mm256_set1_ps(wx);
          const __m256 a = _mm256_fmadd_ps(
              w, _mm256_sub_ps(_mm256_permutevar8x32_ps(top, pick), top), top);
          const __m256 bb = _mm256_fmadd_ps(
              w, _mm256_sub_ps(_mm256_permutevar8x32_ps(bottom, pick), bottom),
              bottom);
          const __m256 r =
              _mm256_fmadd_ps(_mm256_set1_ps(wy), _mm256_sub_ps(bb, a), a);
          // Four floats: the fourth (for three channels) is the next
          // pixel's first, written again by it.
          _mm_storeu_ps(ob, _mm256_castps256_ps128(r));
          continue;
        }
#endif
        const T* p00 = image + static_cast<int64_t>(o00[j]) * channels;
        const T* p01 = image + static_cast<int64_t>(o01[j]) * channels;
        const T* p10 = image + static_cast<int64_t>(o10[j]) * channels;
        const T* p11 = image + static_cast<int64_t>(o11[j]) * channels;
        for (int64_t c = 0; c < channels; ++c) {
          const float v00 = static_cast<float>(p00[c]);
          const float v01 = static_cast<float>(p01[c]);
          const float v10 = static_cast<float>(p10[c]);
          const float v11 = static_cast<float>(p11[c]);
          const float a = MulAdd(wx, v01 - v00, v00);
          const float bb = MulAdd(wx, v11 - v10, v10);
          ob[c] = MulAdd(wy, bb - a, a);
        }
      }
      if (g.n_steps > 0) ApplySteps<kChannels>(o + x_begin * channels, n, b, g);
    }
  }
}

using RowsFn = void (*)(const void*, const float*, float*, const Geometry&,
                        int64_t, int64_t);

template <typename T, int kChannels, bool kBilinear, int32_t kFill>
static RowsFn PickProjective(bool projective) {
  return projective ? &ResampleRows<T, kChannels, kBilinear, kFill, true>
                    : &ResampleRows<T, kChannels, kBilinear, kFill, false>;
}

template <typename T, int kChannels, bool kBilinear>
static RowsFn PickFill(int32_t fill, bool projective) {
  switch (fill) {
    case kConstant:
      return PickProjective<T, kChannels, kBilinear, kConstant>(projective);
    case kReflect:
      return PickProjective<T, kChannels, kBilinear, kReflect>(projective);
    case kWrap:
      return PickProjective<T, kChannels, kBilinear, kWrap>(projective);
    default:
      return PickProjective<T, kChannels, kBilinear, kNearest>(projective);
  }
}

template <typename T, int kChannels>
static RowsFn PickInterpolation(const Geometry& g) {
  return g.bilinear ? PickFill<T, kChannels, true>(g.fill, g.projective)
                    : PickFill<T, kChannels, false>(g.fill, g.projective);
}

template <typename T>
static RowsFn PickChannels(const Geometry& g) {
  switch (g.channels) {
    case 1: return PickInterpolation<T, 1>(g);
    case 3: return PickInterpolation<T, 3>(g);
    case 4: return PickInterpolation<T, 4>(g);
    default: return PickInterpolation<T, 0>(g);
  }
}

static RowsFn Pick(const Geometry& g) {
  return g.uint8_source ? PickChannels<uint8_t>(g) : PickChannels<float>(g);
}

// The cores this process may run on (AUGMENT_LAYERS_NATIVE_THREADS caps it).
static int Threads() {
  static const int threads = [] {
    int n = 1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
    if (const char* cap = std::getenv("AUGMENT_LAYERS_NATIVE_THREADS")) {
      const int c = std::atoi(cap);
      if (c > 0) n = std::min(n, c);
    }
    return std::max(1, n);
  }();
  return threads;
}

// Asks Linux to back a large output with 2 MiB pages. A batch's output is a
// fresh allocation, mapped on first touch: in 4 KiB pages its faults cost
// more than the resample itself (100 MB: 68 ms of faults, 14 ms in 2 MiB
// pages, measured here with transparent huge pages in "madvise" mode). Only
// the page size changes, never a value; memory already mapped stays as it is.
static void PreferHugePages(void* data, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  if (bytes < 4 * kHuge) return;
  const uintptr_t begin =
      (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) &
                        ~(kHuge - 1);
  if (end > begin) {
    madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  }
#endif
}

// Splits the output rows over the cores; each row is computed by one thread
// whatever the split, so the split never changes a value.
static void Resample(const void* images, const float* matrices, float* out,
                     const Geometry& g) {
  const RowsFn rows = Pick(g);
  PreferHugePages(out, static_cast<size_t>(g.batch * g.out_height *
                                           g.out_width * g.channels) *
                           sizeof(float));
  const int64_t total = g.batch * g.out_height;
  const int64_t pixels = total * g.out_width;
  int64_t threads = std::min<int64_t>(Threads(), pixels / (1 << 15));
  threads = std::max<int64_t>(1, std::min(threads, total));
  if (threads == 1) {
    rows(images, matrices, out, g, 0, total);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(threads - 1);
  for (int64_t t = 1; t < threads; ++t) {
    const int64_t begin = total * t / threads;
    const int64_t end = total * (t + 1) / threads;
    workers.emplace_back(rows, images, matrices, out, std::cref(g), begin,
                         end);
  }
  rows(images, matrices, out, g, 0, total / threads);
  for (auto& w : workers) w.join();
}

static int32_t FillCode(const std::string& mode) {
  if (mode == "constant") return kConstant;
  if (mode == "reflect") return kReflect;
  if (mode == "wrap") return kWrap;
  return kNearest;
}

}  // namespace augment_layers

