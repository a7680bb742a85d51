#pragma once
// The keyed generator's arithmetic, shared by the CPU (core/rng.cpp) and the CUDA kernel (noise/*.cu):
// key derivation, Philox4x32-10, 53-bit uniforms and Box-Muller normals.
//
// Draws must be bitwise identical on every device, so nothing here calls a platform math library
// (glibc's and CUDA's log/sin/cos differ in the last bit on some inputs). The logarithm and sin/cos are
// written out with the classic fdlibm minimax polynomials (Sun's freely distributable fdlibm, as in
// musl and FreeBSD's libm; error below 1 ulp), using only +, -, *, / and sqrt, which IEEE 754 rounds
// identically everywhere. Two rules keep it so:
//   - no fused multiply-add contraction: the CPU build compiles with -ffp-contract=off (GCC's default
//     in ISO C++ mode, made explicit in cmake/IpbenchHelpers.cmake) and nvcc with --fmad=false;
//   - sin/cos take the angle as a fraction of a turn, u in (0, 1), and reduce it exactly (u - q/4 is
//     exact for 53-bit u), so no pi-based range reduction is needed.
// This header is plain C++ (no LibTorch) so that nvcc compiles it without the torch headers.
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define IPBENCH_HD __host__ __device__ __forceinline__
#else
#define IPBENCH_HD inline
#endif

namespace ipbench::philox {

/// SplitMix64 finalizer: a bijective 64-bit mixer.
IPBENCH_HD uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// Child key of (parent, tag): two rounds so that nearby pairs land far apart.
IPBENCH_HD uint64_t derive(uint64_t parent, uint64_t tag) {
  return mix64(mix64(parent) ^ (tag * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL));
}

/// Philox4x32-10 block (Salmon et al., SC 2011) for (key, counter): four 32-bit words.
IPBENCH_HD void block(uint64_t key, uint64_t counter, uint32_t out[4]) {
  constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = static_cast<uint64_t>(M0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(M1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n1 = static_cast<uint32_t>(p1);
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    const uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += W0;
    k1 += W1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/// 53-bit uniform in the open interval (0, 1) from two 32-bit words: (bits + 1/2) 2^-53.
IPBENCH_HD double to_unit(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ (static_cast<uint64_t>(lo) >> 11);
  return (static_cast<double>(bits & ((1ULL << 53) - 1)) + 0.5) * 0x1.0p-53;
}

/// Natural logarithm of a positive normal double (fdlibm's e_log.c algorithm): x = 2^k (1 + f) with
/// 1 + f in [sqrt(2)/2, sqrt(2)), s = f / (2 + f), log(1 + f) = f - hfsq + s (hfsq + R(s^2)).
IPBENCH_HD double log_positive(double x) {
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  constexpr double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                   Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                   Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                   Lg7 = 1.479819860511658591e-01;
  int e = 0;
  double m = frexp(x, &e);  // exact: x = m 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m = m * 2.0;  // exact
    e -= 1;
  }
  const double f = m - 1.0;  // exact (Sterbenz)
  const double k = static_cast<double>(e);
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double R = t2 + t1;
  const double hfsq = 0.5 * f * f;
  return k * ln2_hi - ((hfsq - (s * (hfsq + R) + k * ln2_lo)) - f);
}

/// sin and cos of x in [-pi/4, pi/4] (fdlibm's k_sin.c / k_cos.c kernels with no tail).
IPBENCH_HD void sincos_kernel(double x, double& s, double& c) {
  constexpr double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
                   S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06,
                   S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
  constexpr double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
                   C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07,
                   C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
  const double z = x * x;
  const double v = z * x;
  const double rs = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)));
  s = x + v * (S1 + z * rs);
  const double rc = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))));
  const double hz = 0.5 * z;
  const double w = 1.0 - hz;
  c = w + (((1.0 - w) - hz) + z * rc);
}

/// sin(2 pi u) and cos(2 pi u) for u in [0, 1]: q = rint(4u) quarter turns plus r = u - q/4 in
/// [-1/8, 1/8] (exact), angle 2 pi r in [-pi/4, pi/4].
IPBENCH_HD void sincos_turn(double u, double& s, double& c) {
  constexpr double two_pi = 6.28318530717958647692;
  const double q = rint(4.0 * u);  // 4u exact
  const double r = u - 0.25 * q;   // exact
  double sr, cr;
  sincos_kernel(two_pi * r, sr, cr);
  switch (static_cast<int>(q) & 3) {
    case 0: s = sr; c = cr; break;
    case 1: s = cr; c = -sr; break;
    case 2: s = -sr; c = -cr; break;
    default: s = -cr; c = sr; break;
  }
}

/// Normal pair j of a key: Box-Muller on the two uniforms of Philox block j,
/// (a, b) = sqrt(-2 log u1) (cos 2 pi u2, sin 2 pi u2).
IPBENCH_HD void normal_pair(uint64_t key, uint64_t j, double& a, double& b) {
  uint32_t w[4];
  block(key, j, w);
  const double u1 = to_unit(w[0], w[1]);
  const double u2 = to_unit(w[2], w[3]);
  const double r = sqrt(-2.0 * log_positive(u1));
  double s, c;
  sincos_turn(u2, s, c);
  a = r * c;
  b = r * s;
}

}  // namespace ipbench::philox
