#pragma once
#include <cstdint>
#include <cstddef>
namespace util {
struct uint128_t { uint64_t lo, hi; };
inline uint64_t Uint128Low64(const uint128_t& x) { return x.lo; }
inline uint64_t Uint128High64(const uint128_t& x) { return x.hi; }
uint64_t Fingerprint64(const char* s, size_t len);
uint32_t Fingerprint32(const char* s, size_t len);
uint128_t Fingerprint128(const char* s, size_t len);
}
