/* The AVX-512 kernels' source on a host that may lack AVX-512: the one-row product
 * (src/kernels/row_avx512.inc) compiled on SIMDe's portable versions of the AVX-512
 * intrinsics (Debian's libsimde-dev, header only), and the 16-lane LayerNorm rows
 * (src/kernels/rows.inc with 16 lanes) compiled without the AVX-512 target, each against
 * double at every vector-width edge (lengths 0..70 and 127..129, odd offsets and strides,
 * nothing written past the output). This checks the code's logic (masks, tails, the lane
 * tree); the instructions themselves run only on an AVX-512 host, in test_isa. Skipped,
 * saying so, when the SIMDe headers are not installed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "isa_ref.h"
#include "base/rng.h"

#if defined(__has_include)
#if __has_include(<simde/x86/avx512.h>)
#define HAVE_SIMDE 1
#endif
#endif

#ifdef HAVE_SIMDE
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

/* three the SIMDe release of Debian 12 lacks, written here from Intel's definitions: the
 * mask type, the zero-masking load (masked-off lanes are 0 and their memory is not read)
 * and the sum of the 16 lanes */
typedef simde__mmask16 __mmask16;
static inline simde__m512 _mm512_maskz_loadu_ps(__mmask16 k, const float *p) {
    simde__m512_private r;
    for (int i = 0; i < 16; i++) r.f32[i] = (k >> i) & 1 ? p[i] : 0.0f;
    return simde__m512_from_private(r);
}
static inline float _mm512_reduce_add_ps(simde__m512 v) {
    const simde__m512_private a = simde__m512_to_private(v);
    float s = 0;
    for (int i = 0; i < 16; i++) s += a.f32[i];
    return s;
}

#define AVX512_TARGET
#include "kernels/row_avx512.inc"

#define RW 16
#define RFN(name) name##_emul16
#define RTARGET
#include "kernels/rows.inc"

#define GUARD 8
static const float SENTINEL = -12345.5f;

static void check_row_product(void) {
    uint64_t r = 21;
    const int maxk = 129, ldb = maxk + 3;
    float *abuf = malloc(sizeof(float) * (maxk + 1)), *B = malloc(sizeof(float) * 40 * ldb);
    float c[40 + GUARD];
    for (int i = 0; i <= maxk; i++) abuf[i] = (float)aaren_rng_normal(&r);
    for (int i = 0; i < 40 * ldb; i++) B[i] = (float)aaren_rng_normal(&r);
    const float *a = abuf + 1;
    const int Ns[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33};
    double worst = 0;
    for (size_t in = 0; in < sizeof Ns / sizeof Ns[0]; in++)
        for (int K = 0; K <= maxk; K = K == 70 ? 127 : K + 1) {
            const int N = Ns[in];
            for (int beta = 0; beta < 2; beta++) {
                for (int j = 0; j < N; j++) c[j] = 0.25f * (float)j - 1;
                for (int g = 0; g < GUARD; g++) c[N + g] = SENTINEL;
                row512_times_rows(N, K, 0.75f, a, B + 1, ldb, beta ? 0.5f : 0.0f, c);
                for (int g = 0; g < GUARD; g++) CHECK(c[N + g] == SENTINEL, "emulated AVX-512 product N=%d K=%d: wrote past c[N-1]", N, K);
                const double e = ref_row_product_err(c, a, B + 1, ldb, N, K, beta ? 0.5 : 0.0);
                if (e > worst) worst = e;
                CHECK(e < 2e-6, "emulated AVX-512 product N=%d K=%d beta=%d: relative error %.3g", N, K, beta, e);
            }
        }
    printf("test_isa_emul: AVX-512 one-row product (emulated): worst relative error %.2g\n", worst);
    free(abuf);
    free(B);
}

static void check_layernorm16(void) {
    uint64_t r = 22;
    enum { MAXC = 129 };
    float xb[MAXC + 3], w[MAXC], b[MAXC], dy[MAXC], y[MAXC + GUARD], dx[MAXC + GUARD];
    for (int i = 0; i < MAXC + 3; i++) xb[i] = 3.0f + (float)aaren_rng_normal(&r);
    for (int i = 0; i < MAXC; i++) {
        w[i] = 1 + 0.5f * (float)aaren_rng_normal(&r);
        b[i] = 0.3f * (float)aaren_rng_normal(&r);
        dy[i] = (float)aaren_rng_normal(&r);
    }
    const float *x = xb + 3;
    for (int C = 1; C <= MAXC; C = C == 70 ? 127 : C + 1) {
        float mean, rstd;
        for (int g = 0; g < GUARD; g++) y[C + g] = dx[C + g] = SENTINEL;
        ln_row_emul16(y, &mean, &rstd, x, w, b, C, 1e-5f);
        const double e = ref_layernorm_err(y, mean, rstd, x, w, b, C);
        CHECK(e < 3e-6, "16-lane LayerNorm C=%d: relative error %.3g", C, e);
        for (int c = 0; c < C; c++) dx[c] = 0;
        ln_row_backward_emul16(dx, dy, x, mean, rstd, w, C);
        const double eb = ref_layernorm_backward_err(dx, dy, x, mean, rstd, w, C, 0.0);
        CHECK(eb < 3e-6, "16-lane LayerNorm backward C=%d: relative error %.3g", C, eb);
        for (int g = 0; g < GUARD; g++)
            CHECK(y[C + g] == SENTINEL && dx[C + g] == SENTINEL, "16-lane LayerNorm C=%d: wrote past the row", C);
    }
}

int main(void) {
    check_row_product();
    check_layernorm16();
    return check_done("test_isa_emul");
}
#else
int main(void) {
    return check_skip("test_isa_emul", "the SIMDe headers (Debian libsimde-dev) are not installed: the AVX-512 "
                      "kernels' source is not checked on emulated intrinsics");
}
#endif
