#pragma once
namespace highwayhash { template <int T> class HighwayHashCatT { char pad_[256]; }; }
