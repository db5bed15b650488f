/* One row against a row-major matrix, c[j] = alpha * a . B[j, :] + beta * c[j], with AVX2
 * and FMA, and with AVX-512F (row_avx512.inc) (float32 only). This is the shape of every linear layer on a single streamed
 * token; the portable loop in gemm.inc compiles to 4-wide SSE without FMA in a generic
 * x86-64 build, which makes the step compute-bound. The function is compiled for AVX2
 * whatever the build flags and chosen at run time only when the CPU has AVX2 and FMA, so
 * the same binary still runs on older x86-64 CPUs and other architectures build without it.
 * The AVX-512F version likewise (isa.c picks the path, cached; AAREN_ISA forces one).
 * Summation order: 16 lanes per row (two 8-wide accumulators), then a fixed tree; results
 * differ from the portable loop by float rounding only. */
#include "kernels.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(AAREN_NO_X86_KERNELS)
#include <immintrin.h>

int aaren_x86_avx2_fma(void) { return aaren_isa_supported(AAREN_ISA_AVX2); }

__attribute__((target("avx2,fma")))
static inline __m128 sum4_avx2(__m256 s0, __m256 s1, __m256 s2, __m256 s3) {
    /* lanes of the result: the full sums of s0, s1, s2, s3 */
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1), _mm256_hadd_ps(s2, s3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

__attribute__((target("avx2,fma")))
static float dot_avx2(int K, const float *a, const float *b) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), s1);
    }
    for (; k + 8 <= K; k += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), s0);
    const __m128 v = sum4_avx2(_mm256_add_ps(s0, s1), _mm256_setzero_ps(), _mm256_setzero_ps(),
                               _mm256_setzero_ps());
    float sum = _mm_cvtss_f32(v);
    for (; k < K; k++) sum += a[k] * b[k];
    return sum;
}

__attribute__((target("avx2,fma")))
void aaren_row_times_rows_avx2(int N, int K, float alpha, const float *a, const float *B, int ldb,
                               float beta, float *c) {
    int j = 0;
    /* four rows of B at a time: a is loaded once per chunk, eight accumulators in flight */
    for (; j + 4 <= N; j += 4) {
        const float *b0 = B + (size_t)j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        __m256 t0 = _mm256_setzero_ps(), t1 = _mm256_setzero_ps();
        __m256 t2 = _mm256_setzero_ps(), t3 = _mm256_setzero_ps();
        int k = 0;
        for (; k + 16 <= K; k += 16) {
            const __m256 x = _mm256_loadu_ps(a + k), y = _mm256_loadu_ps(a + k + 8);
            s0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b0 + k), s0);
            s1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b1 + k), s1);
            s2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b2 + k), s2);
            s3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b3 + k), s3);
            t0 = _mm256_fmadd_ps(y, _mm256_loadu_ps(b0 + k + 8), t0);
            t1 = _mm256_fmadd_ps(y, _mm256_loadu_ps(b1 + k + 8), t1);
            t2 = _mm256_fmadd_ps(y, _mm256_loadu_ps(b2 + k + 8), t2);
            t3 = _mm256_fmadd_ps(y, _mm256_loadu_ps(b3 + k + 8), t3);
        }
        for (; k + 8 <= K; k += 8) {
            const __m256 x = _mm256_loadu_ps(a + k);
            s0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b0 + k), s0);
            s1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b1 + k), s1);
            s2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b2 + k), s2);
            s3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b3 + k), s3);
        }
        float r[4];
        _mm_storeu_ps(r, sum4_avx2(_mm256_add_ps(s0, t0), _mm256_add_ps(s1, t1), _mm256_add_ps(s2, t2),
                                   _mm256_add_ps(s3, t3)));
        for (; k < K; k++) {
            r[0] += a[k] * b0[k];
            r[1] += a[k] * b1[k];
            r[2] += a[k] * b2[k];
            r[3] += a[k] * b3[k];
        }
        for (int q = 0; q < 4; q++) c[j + q] = alpha * r[q] + (beta == 0 ? 0 : beta * c[j + q]);
    }
    for (; j < N; j++) c[j] = alpha * dot_avx2(K, a, B + (size_t)j * ldb) + (beta == 0 ? 0 : beta * c[j]);
}

#ifndef AAREN_NO_AVX512
#define AVX512_TARGET __attribute__((target("avx512f")))
#include "row_avx512.inc"
#undef AVX512_TARGET

void aaren_row_times_rows_avx512(int N, int K, float alpha, const float *a, const float *B, int ldb,
                                 float beta, float *c) {
    row512_times_rows(N, K, alpha, a, B, ldb, beta, c);
}
#endif

#else
int aaren_x86_avx2_fma(void) { return 0; }
void aaren_row_times_rows_avx2(int N, int K, float alpha, const float *a, const float *B, int ldb,
                               float beta, float *c) {
    (void)N; (void)K; (void)alpha; (void)a; (void)B; (void)ldb; (void)beta; (void)c;
}
#endif

#if !(defined(__x86_64__) && defined(__GNUC__) && !defined(AAREN_NO_X86_KERNELS)) || defined(AAREN_NO_AVX512)
void aaren_row_times_rows_avx512(int N, int K, float alpha, const float *a, const float *B, int ldb,
                                 float beta, float *c) {
    (void)N; (void)K; (void)alpha; (void)a; (void)B; (void)ldb; (void)beta; (void)c;
}
#endif
