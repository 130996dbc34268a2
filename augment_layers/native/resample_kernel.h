// The resample kernel itself, with no TensorFlow or XLA dependency
// (resample.cc registers it; benchmarks/native/bench_kernel.cc times it alone).
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
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "resample_geometry.h"
#include "thread_pool.h"

namespace augment_layers {



// The steps on n pixels of image b, as XLA computes them: one rounding per
// multiply and per add, clips by max then min (NaN stays NaN).
template <int kChannels>
static void ApplySteps(float* o, int n, int64_t b, const Geometry& g) {
  const int64_t channels = kChannels > 0 ? kChannels : g.channels;
  const float* v = g.values + b * g.value_rows * channels;
#if defined(__AVX2__) && defined(__FMA__)
  // The pixels as one run of floats, eight pixels (kChannels vectors) at a
  // time against the step's values repeated over eight pixels.
  constexpr int kRun = 8 * (kChannels > 0 ? kChannels : 1);
  const int64_t wide = kChannels > 0 ? (n / 8) * kRun : 0;
#else
  const int64_t wide = 0;
#endif
  for (int32_t s = 0; s < g.n_steps; ++s) {
    const char kind = g.steps[s];
    const float* lo = v;
    const float* hi = v + channels;
    v += (kind == 'c' ? 2 : 1) * channels;
#if defined(__AVX2__) && defined(__FMA__)
    if (wide > 0) {
      alignas(32) float first[kRun], second[kRun];
      for (int k = 0; k < kRun; ++k) {
        first[k] = lo[k % channels];
        second[k] = kind == 'c' ? hi[k % channels] : 0.0f;
      }
      for (int64_t i = 0; i < wide; i += kRun) {
        for (int k = 0; k < kRun; k += 8) {
          const __m256 a = _mm256_loadu_ps(o + i + k);
          const __m256 p = _mm256_load_ps(first + k);
          __m256 r;
          if (kind == 'c') {
            // max(lo, o), then min(hi, .): each returns its second operand
            // where one is NaN or both are equal, as std::max(o, lo) and
            // std::min(., hi) do.
            r = _mm256_min_ps(_mm256_load_ps(second + k),
                              _mm256_max_ps(p, a));
          } else if (kind == 's') {
            r = _mm256_mul_ps(a, p);
          } else {
            r = _mm256_add_ps(a, p);
          }
          _mm256_storeu_ps(o + i + k, r);
        }
      }
    }
#endif
    float* q = o + wide;
    const int64_t rest = n - wide / channels;
    if (kind == 'c') {
      for (int64_t j = 0; j < rest; ++j, q += channels) {
        for (int64_t c = 0; c < channels; ++c) {
          q[c] = std::min(std::max(q[c], lo[c]), hi[c]);
        }
      }
    } else if (kind == 's') {
      for (int64_t j = 0; j < rest; ++j, q += channels) {
        for (int64_t c = 0; c < channels; ++c) q[c] = q[c] * lo[c];
      }
    } else {
      for (int64_t j = 0; j < rest; ++j, q += channels) {
        for (int64_t c = 0; c < channels; ++c) q[c] = q[c] + lo[c];
      }
    }
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
#define AL_PREFETCH 64
#endif
constexpr int kBlock = AL_BLOCK;
constexpr int kPrefetch = AL_PREFETCH;

// Output rows [row_begin, row_end) of the flattened (batch * out_height),
// in blocks of kBlock pixels: first every coordinate, weight and neighbour
// offset of the block (a loop the compiler vectorizes), then the reads and
// blends, every channel of a neighbour from one cache line.


#if defined(__AVX2__) && defined(__FMA__)
// ToInt32Select then MapIndexFast, eight lanes at once: the same values.
template <int32_t kFill>
static inline __m256i MapIndex8(__m256 v, int32_t size) {
  if (kFill == kNearest || kFill == kConstant) {
    // Clamped as floats: NaN -> 0 (max returns its second operand), the
    // values are whole numbers (floor, ceil), so truncation then clamping
    // and clamping then truncation agree.
    const __m256 f = _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()),
                                   _mm256_set1_ps(static_cast<float>(size - 1)));
    return _mm256_cvttps_epi32(f);
  }
  __m256i i = _mm256_cvttps_epi32(v);  // out of range and NaN: INT32_MIN
  const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
  const __m256 big = _mm256_cmp_ps(v, _mm256_set1_ps(2147483648.0f),
                                   _CMP_GE_OQ);
  i = _mm256_andnot_si256(_mm256_castps_si256(nan), i);
  i = _mm256_blendv_epi8(i, _mm256_set1_epi32(INT32_MAX),
                         _mm256_castps_si256(big));
  const __m256i inside = _mm256_and_si256(
      _mm256_cmpgt_epi32(i, _mm256_set1_epi32(-1)),
      _mm256_cmpgt_epi32(_mm256_set1_epi32(size), i));
  if (_mm256_movemask_ps(_mm256_castsi256_ps(inside)) == 0xFF) return i;
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), i);
  for (int k = 0; k < 8; ++k) lanes[k] = MapIndex<kFill>(lanes[k], size);
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
}

// The coordinate loop eight output pixels at a time (the same operations,
// in the same order, as the scalar loop after it); returns how many pixels
// it did.
template <bool kBilinear, int32_t kFill, bool kProjective>
static inline int Coordinates8(
    int64_t x_begin, int n, float m0, float m2, float m3, float m5, float my0,
    float my1, float m6, float m8, float my2, int32_t width, int32_t height,
    float tolerance, float upper_x, float upper_y, float* wxs, float* wys,
    int32_t* o00, int32_t* o01, int32_t* o10, int32_t* o11,
    uint8_t* inside, bool wide, int32_t unit, int32_t last_wide,
    int32_t* code) {
  const __m256 iota = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
  // Offsets in pixels, or in values where the blend is by pixels (unit).
  const __m256i w = _mm256_set1_epi32(width * unit);
  const __m256i u = _mm256_set1_epi32(unit);
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 x = _mm256_add_ps(
        _mm256_set1_ps(static_cast<float>(x_begin + j)), iota);
    __m256 sx, sy;
    if (kProjective) {
      const __m256 q = _mm256_add_ps(
          _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(m6), x),
                        _mm256_set1_ps(my2)), _mm256_set1_ps(m8));
      sx = _mm256_div_ps(_mm256_add_ps(_mm256_add_ps(
          _mm256_mul_ps(_mm256_set1_ps(m0), x), _mm256_set1_ps(my0)),
          _mm256_set1_ps(m2)), q);
      sy = _mm256_div_ps(_mm256_add_ps(_mm256_add_ps(
          _mm256_mul_ps(_mm256_set1_ps(m3), x), _mm256_set1_ps(my1)),
          _mm256_set1_ps(m5)), q);
    } else {
      sx = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(m0), x,
                                         _mm256_set1_ps(my0)),
                         _mm256_set1_ps(m2));
      sy = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(m3), x,
                                         _mm256_set1_ps(my1)),
                         _mm256_set1_ps(m5));
    }
    __m256 in;
    if (kFill == kConstant) {
      const __m256 low = _mm256_set1_ps(-tolerance);
      in = _mm256_and_ps(
          _mm256_and_ps(_mm256_cmp_ps(sx, low, _CMP_GE_OQ),
                        _mm256_cmp_ps(sx, _mm256_set1_ps(upper_x),
                                      _CMP_LE_OQ)),
          _mm256_and_ps(_mm256_cmp_ps(sy, low, _CMP_GE_OQ),
                        _mm256_cmp_ps(sy, _mm256_set1_ps(upper_y),
                                      _CMP_LE_OQ)));
      const int bits = _mm256_movemask_ps(in);
      for (int k = 0; k < 8; ++k) inside[j + k] = (bits >> k) & 1;
    }
    if (!kBilinear) {
      const __m256 half = _mm256_set1_ps(0.5f);
      const __m256i ix = MapIndex8<kFill>(
          _mm256_floor_ps(_mm256_add_ps(sx, half)), width);
      const __m256i iy = MapIndex8<kFill>(
          _mm256_floor_ps(_mm256_add_ps(sy, half)), height);
      _mm256_store_si256(reinterpret_cast<__m256i*>(o00 + j),
                         _mm256_add_epi32(_mm256_mullo_epi32(iy, w), ix));
      continue;
    }
    const __m256 x0f = _mm256_floor_ps(sx);
    const __m256 y0f = _mm256_floor_ps(sy);
    _mm256_store_ps(wxs + j, _mm256_sub_ps(sx, x0f));
    _mm256_store_ps(wys + j, _mm256_sub_ps(sy, y0f));
    const __m256i x0 = _mm256_mullo_epi32(MapIndex8<kFill>(x0f, width), u);
    const __m256i x1 =
        _mm256_mullo_epi32(MapIndex8<kFill>(_mm256_ceil_ps(sx), width), u);
    const __m256i row0 = _mm256_mullo_epi32(MapIndex8<kFill>(y0f, height), w);
    const __m256i row1 =
        _mm256_mullo_epi32(MapIndex8<kFill>(_mm256_ceil_ps(sy), height), w);
    const __m256i a00 = _mm256_add_epi32(row0, x0);
    const __m256i a01 = _mm256_add_epi32(row0, x1);
    const __m256i a10 = _mm256_add_epi32(row1, x0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(o00 + j), a00);
    _mm256_store_si256(reinterpret_cast<__m256i*>(o01 + j), a01);
    _mm256_store_si256(reinterpret_cast<__m256i*>(o10 + j), a10);
    _mm256_store_si256(reinterpret_cast<__m256i*>(o11 + j),
                       _mm256_add_epi32(row1, x1));
    if (wide) {
      // How the blend reads each pixel (WideCode).
      const __m256i a11 = _mm256_add_epi32(row1, x1);
      const __m256i far = _mm256_max_epi32(_mm256_max_epi32(a00, a01),
                                           _mm256_max_epi32(a10, a11));
      __m256i c = _mm256_and_si256(
          _mm256_cmpgt_epi32(far, _mm256_set1_epi32(last_wide)),
          _mm256_set1_epi32(1));
      if (kFill == kConstant) {
        c = _mm256_blendv_epi8(_mm256_set1_epi32(2), c,
                               _mm256_castps_si256(in));
      }
      _mm256_store_si256(reinterpret_cast<__m256i*>(code + j), c);
    }
  }
  return j;
}
#endif

// How the blend reads a pixel (BlendPairs): 0, four values per neighbour
// (which must not pass the image: last_wide); 1, one value at a time; 2,
// the fill value.
template <int32_t kFill>
static inline int32_t WideCode(int32_t a00, int32_t a01, int32_t a10,
                               int32_t a11, uint8_t in, int32_t last_wide) {
  if (kFill == kConstant && !in) return 2;
  return std::max(std::max(a00, a01), std::max(a10, a11)) <= last_wide ? 0
                                                                        : 1;
}

#if defined(__AVX2__) && defined(__FMA__)
// Four values from p as floats (exact for uint8).
static inline __m128 Load4(const float* p) { return _mm_loadu_ps(p); }
static inline __m128 Load4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(v)));
}

// One neighbour of two pixels: the first's in the low half, the second's
// in the high half.
template <typename T>
static inline __m256 Load4x2(const T* first, const T* second) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(Load4(first)),
                              Load4(second), 1);
}

static inline __m256 Pair(const float* v, int j) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(v[j])),
                              _mm_set1_ps(v[j + 1]), 1);
}

// The reads and blends of one block of three- or four-channel pixels, two
// pixels at a time: each neighbour of a pixel in four lanes (its channels,
// and for three channels the next pixel's first value, which is written
// again after), the same fused operations as the scalar loop lane by lane.
// Codes (WideCode): 0, the pair's way; 1, one value at a time; 2, the fill.
template <typename T, int kChannels, int32_t kFill>
static inline void BlendPairs(const T* image, float* ob, int n,
                              const int32_t* code, const int32_t* o00,
                              const int32_t* o01, const int32_t* o10,
                              const int32_t* o11, const float* wxs,
                              const float* wys, float fill_value) {
  auto one = [&](int j, float* q) {
    if (kFill == kConstant && code[j] == 2) {
      for (int k = 0; k < kChannels; ++k) q[k] = fill_value;
      return;
    }
    const float wx = wxs[j], wy = wys[j];
    const T* p00 = image + o00[j];
    const T* p01 = image + o01[j];
    const T* p10 = image + o10[j];
    const T* p11 = image + o11[j];
    for (int k = 0; k < kChannels; ++k) {
      const float v00 = static_cast<float>(p00[k]);
      const float v01 = static_cast<float>(p01[k]);
      const float v10 = static_cast<float>(p10[k]);
      const float v11 = static_cast<float>(p11[k]);
      const float a = MulAdd(wx, v01 - v00, v00);
      const float bb = MulAdd(wx, v11 - v10, v10);
      q[k] = MulAdd(wy, bb - a, a);
    }
  };
  int j = 0;
  for (; j + 1 < n; j += 2, ob += 2 * kChannels) {
    // The reads of a turned image walk across source rows, which the
    // hardware prefetcher does not follow: ask for them ahead.
    if (j + kPrefetch < n) {
      __builtin_prefetch(image + o00[j + kPrefetch]);
      __builtin_prefetch(image + o10[j + kPrefetch]);
    }
    if ((code[j] | code[j + 1]) == 0) {
      const __m256 v00 = Load4x2(image + o00[j], image + o00[j + 1]);
      const __m256 v01 = Load4x2(image + o01[j], image + o01[j + 1]);
      const __m256 v10 = Load4x2(image + o10[j], image + o10[j + 1]);
      const __m256 v11 = Load4x2(image + o11[j], image + o11[j + 1]);
      const __m256 wx = Pair(wxs, j);
      const __m256 a = _mm256_fmadd_ps(wx, _mm256_sub_ps(v01, v00), v00);
      const __m256 bb = _mm256_fmadd_ps(wx, _mm256_sub_ps(v11, v10), v10);
      const __m256 r = _mm256_fmadd_ps(Pair(wys, j), _mm256_sub_ps(bb, a), a);
      if (kChannels == 4) {
        _mm256_storeu_ps(ob, r);
      } else {
        // The high half's fourth lane lands on the next pixel's first
        // value, which that pixel writes after (never past the block: its
        // last pixel takes the scalar way).
        _mm_storeu_ps(ob, _mm256_castps256_ps128(r));
        _mm_storeu_ps(ob + kChannels, _mm256_extractf128_ps(r, 1));
      }
      continue;
    }
    one(j, ob);
    one(j + 1, ob + kChannels);
  }
  if (j < n) one(j, ob);
}
#endif


#ifndef AL_LEAD
#define AL_LEAD 2
#endif
// The source rows ahead of a turned image's reads. Its reads walk across
// source rows, where the hardware prefetcher does not follow, but the rows
// they need enter one output row at a time: at each output row the kernel
// asks (into L2) for the source rows that the output row AL_LEAD rows on
// reads and no earlier row did, each within the columns the image's output
// reads, in memory order. 64 x 224² turned: 9.4 to 6.4 ms (the kernel alone,
// two threads); 8 x 1024²: no change (a turned 1024² image's rows in flight
// outgrow L2). Only the order of memory traffic changes, never a value.
struct RowFrontier {
  int64_t image = -1;
  int32_t lo = 1, hi = 0;          // the source rows asked for so far
  int64_t col_begin = 0, col_end = 0;  // in bytes within a row
};

template <typename T>
static inline void AskForRows(const T* image, int64_t row_values, int32_t from,
                              int32_t to, const RowFrontier& f) {
  for (int32_t yy = from; yy <= to; ++yy) {
    const char* row = reinterpret_cast<const char*>(image + yy * row_values);
    for (int64_t at = f.col_begin; at < f.col_end; at += 64) {
      __builtin_prefetch(row + at, 0, 2);
    }
  }
}

// The source rows [lo, hi] that output row y reads (affine maps; rows
// outside the image are left out).
static inline bool SourceRows(const float* m, float y, int64_t out_width,
                              int32_t height, int32_t* lo, int32_t* hi) {
  const float a = m[4] * y + m[5];
  const float b = m[3] * static_cast<float>(out_width - 1) + a;
  float low = std::min(a, b), high = std::max(a, b);
  if (!(low == low) || !(high == high)) return false;
  low = std::max(low - 1.0f, 0.0f);
  high = std::min(high + 2.0f, static_cast<float>(height - 1));
  if (low > high) return false;
  *lo = static_cast<int32_t>(low);
  *hi = static_cast<int32_t>(high);
  return true;
}

template <typename T, int kChannels, bool kBilinear, int32_t kFill,
          bool kProjective>
static void ResampleRows(const void* source, const float* matrices,
                         float* out, const Geometry& g, int64_t row_begin,
                         int64_t row_end) {
  const T* images = static_cast<const T*>(source);
  const int64_t channels = kChannels > 0 ? kChannels : g.channels;
#if defined(__AVX2__) && defined(__FMA__)
  // Three or four channels: the blend by whole pixels (BlendPairs).
  constexpr bool kWide = kBilinear && (kChannels == 3 || kChannels == 4);
#else
  constexpr bool kWide = false;
#endif
  const int32_t height = static_cast<int32_t>(g.height);
  const int32_t width = static_cast<int32_t>(g.width);
  const float tolerance = 1e-3f;
  const float upper_x = (static_cast<float>(g.width) - 1.0f) + tolerance;
  const float upper_y = (static_cast<float>(g.height) - 1.0f) + tolerance;
  const float fill_value = g.fill_value;
  alignas(64) float wxs[kBlock], wys[kBlock];
  alignas(64) int32_t o00[kBlock], o01[kBlock], o10[kBlock], o11[kBlock];
  alignas(64) uint8_t inside[kBlock];
  alignas(64) int32_t code[kBlock];
  // The blend by pixels (BlendPairs) takes offsets in values, which must
  // fit in int32; the last offset from which four values can be read in
  // the image.
  const bool wide =
      kWide && g.height * g.width * channels <= int64_t{INT32_MAX} - 8;
  const int32_t unit = wide ? static_cast<int32_t>(channels) : 1;
  const int32_t last_wide =
      wide ? static_cast<int32_t>(g.height * g.width * channels - 4) : 0;
  RowFrontier frontier;
  const int64_t row_values = g.width * channels;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const int64_t b = r / g.out_height;
    const float y = static_cast<float>(r % g.out_height);
    const float* m = matrices + b * g.matrix_rows * 3;
    const T* image = images + b * g.height * g.width * channels;
    float* o = out + r * g.out_width * channels;
    if (!kProjective) {
      int32_t lo, hi;
      if (frontier.image != b) {
        frontier = RowFrontier();
        frontier.image = b;
        // The columns the whole output reads, from its four corners.
        const float xs[2] = {0.0f, static_cast<float>(g.out_width - 1)};
        const float ys[2] = {0.0f, static_cast<float>(g.out_height - 1)};
        float low = INFINITY, high = -INFINITY;
        for (float cx : xs) {
          for (float cy : ys) {
            const float v = m[0] * cx + m[1] * cy + m[2];
            low = std::min(low, v);
            high = std::max(high, v);
          }
        }
        low = std::max(low - 1.0f, 0.0f);
        high = std::min(high + 2.0f, static_cast<float>(g.width));
        if (low < high) {
          frontier.col_begin =
              static_cast<int64_t>(low) * channels * int64_t{sizeof(T)};
          frontier.col_end =
              static_cast<int64_t>(high) * channels * int64_t{sizeof(T)};
        }
        if (SourceRows(m, y, g.out_width, height, &lo, &hi)) {
          AskForRows(image, row_values, lo, hi, frontier);
          frontier.lo = lo;
          frontier.hi = hi;
        }
      }
      const int64_t ahead = r % g.out_height + AL_LEAD;
      if (ahead < g.out_height &&
          SourceRows(m, static_cast<float>(ahead), g.out_width, height, &lo,
                     &hi)) {
        if (frontier.lo > frontier.hi) {
          AskForRows(image, row_values, lo, hi, frontier);
          frontier.lo = lo;
          frontier.hi = hi;
        } else {
          if (hi > frontier.hi) {
            AskForRows(image, row_values, frontier.hi + 1, hi, frontier);
            frontier.hi = hi;
          }
          if (lo < frontier.lo) {
            AskForRows(image, row_values, lo, frontier.lo - 1, frontier);
            frontier.lo = lo;
          }
        }
      }
    }
    // Per row, the y terms (the same product XLA forms per pixel).
    const float m0 = m[0], m2 = m[2], m3 = m[3], m5 = m[5];
    const float my0 = m[1] * y, my1 = m[4] * y;
    const float m6 = kProjective ? m[6] : 0.0f, m8 = kProjective ? m[8] : 0.0f;
    const float my2 = kProjective ? m[7] * y : 0.0f;
    for (int64_t x_begin = 0; x_begin < g.out_width; x_begin += kBlock) {
      const int n = static_cast<int>(
          std::min<int64_t>(kBlock, g.out_width - x_begin));
      int j = 0;
#if defined(__AVX2__) && defined(__FMA__)
      j = Coordinates8<kBilinear, kFill, kProjective>(
          x_begin, n, m0, m2, m3, m5, my0, my1, m6, m8, my2, width, height,
          tolerance, upper_x, upper_y, wxs, wys, o00, o01, o10, o11, inside,
          wide, unit, last_wide, code);
#endif
      for (; j < n; ++j) {
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
        const int32_t x0 =
            MapIndexFast<kFill>(ToInt32Select(x0f), width) * unit;
        const int32_t x1 =
            MapIndexFast<kFill>(ToInt32Select(std::ceil(sx)), width) * unit;
        const int32_t row0 =
            MapIndexFast<kFill>(ToInt32Select(y0f), height) * (width * unit);
        const int32_t row1 = MapIndexFast<kFill>(ToInt32Select(std::ceil(sy)),
                                                 height) * (width * unit);
        o00[j] = row0 + x0;
        o01[j] = row0 + x1;
        o10[j] = row1 + x0;
        o11[j] = row1 + x1;
        if (wide) {
          code[j] = WideCode<kFill>(o00[j], o01[j], o10[j], o11[j], inside[j],
                                    last_wide);
        }
      }
      float* ob = o + x_begin * channels;
#if defined(__AVX2__) && defined(__FMA__)
      if (wide) {
        // The last pixel's four-float store would pass the block.
        if (kChannels == 3 && code[n - 1] == 0) code[n - 1] = 1;
        BlendPairs<T, kChannels, kFill>(image, ob, n, code, o00, o01, o10,
                                        o11, wxs, wys, fill_value);
        if (g.n_steps > 0) ApplySteps<kChannels>(ob, n, b, g);
        continue;
      }
#endif
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

// What the pool's threads need to compute a range of output rows.
struct RowsJob {
  RowsFn rows;
  const void* images;
  const float* matrices;
  float* out;
  const Geometry* g;
};

static void RunRows(const void* context, int64_t begin, int64_t end) {
  const auto* job = static_cast<const RowsJob*>(context);
  job->rows(job->images, job->matrices, job->out, *job->g, begin, end);
}

// Splits the output rows over the process's one pool of threads
// (thread_pool.h); each row is computed by one thread whatever the split, so
// the split never changes a value. A small batch runs on the calling thread.
static void Resample(const void* images, const float* matrices, float* out,
                     const Geometry& g) {
  const RowsFn rows = Pick(g);
  PreferHugePages(out, static_cast<size_t>(g.batch * g.out_height *
                                           g.out_width * g.channels) *
                           sizeof(float));
  const int64_t total = g.batch * g.out_height;
  const int64_t pixels = total * g.out_width;
  static const int64_t cores = AllowedCores();
  // Below 2^15 output pixels a core, handing rows over costs more than it
  // saves (as before the pool).
  const int64_t useful = std::min<int64_t>(cores, pixels / (1 << 15));
  if (useful <= 1 || total <= 1) {
    rows(images, matrices, out, g, 0, total);
    return;
  }
  // Four chunks a thread: a thread that meets slower rows (a turned image's
  // scattered reads) leaves the rest to the others.
  const int64_t chunk = std::max<int64_t>(1, total / (useful * 4));
  const RowsJob job{rows, images, matrices, out, &g};
  Pool::Get().Run(&RunRows, &job, total, chunk);
}

}  // namespace augment_layers

