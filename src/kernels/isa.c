/* Which instruction-set path the float32 vector kernels take (one-row product, GELU and its
 * gradient, LayerNorm rows): AVX-512F, AVX2 + FMA, or the portable loops. Chosen once, at
 * the first call, as the best path both the CPU and the build have; the environment
 * variable AAREN_ISA=scalar|avx2|avx512 asks for a path (benchmarks, tests, comparing
 * results), and aaren_isa_set forces one from code (tests run every path this host has).
 * A path the CPU lacks is never taken: asking for it gives a one-line warning on stderr
 * and the best path the CPU has. Non-x86 builds (and -DAAREN_NO_X86_KERNELS) have only
 * the portable path. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels.h"

int aaren_isa_supported(int isa) {
    if (isa == AAREN_ISA_SCALAR) return 1;
#if defined(__x86_64__) && defined(__GNUC__) && !defined(AAREN_NO_X86_KERNELS)
    static atomic_int have[3] = {-1, -1, -1};
    if (isa != AAREN_ISA_AVX2 && isa != AAREN_ISA_AVX512) return 0;
    int h = atomic_load_explicit(&have[isa], memory_order_relaxed);
    if (h < 0) {
        __builtin_cpu_init();
        const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#ifdef AAREN_NO_AVX512
        const int avx512 = 0;
#else
        /* libgcc's test includes the operating system's saving of the 512-bit state */
        const int avx512 = avx2 && __builtin_cpu_supports("avx512f");
#endif
        h = isa == AAREN_ISA_AVX2 ? avx2 : avx512;
        atomic_store_explicit(&have[isa], h, memory_order_relaxed);
    }
    return h;
#else
    return 0;
#endif
}

const char *aaren_isa_name(int isa) {
    return isa == AAREN_ISA_AVX512 ? "AVX-512F" : isa == AAREN_ISA_AVX2 ? "AVX2+FMA" : "portable";
}

static int best_isa(void) {
    return aaren_isa_supported(AAREN_ISA_AVX512) ? AAREN_ISA_AVX512
         : aaren_isa_supported(AAREN_ISA_AVX2)   ? AAREN_ISA_AVX2
                                                 : AAREN_ISA_SCALAR;
}

static atomic_int chosen = -1;

/* AAREN_ISA's path, or the best one when it is unset, unknown or not on this CPU. */
static int isa_from_env(void) {
    const char *e = getenv("AAREN_ISA");
    const int best = best_isa();
    if (!e || !*e) return best;
    int want = -1;
    if (!strcmp(e, "scalar") || !strcmp(e, "portable")) want = AAREN_ISA_SCALAR;
    else if (!strcmp(e, "avx2")) want = AAREN_ISA_AVX2;
    else if (!strcmp(e, "avx512")) want = AAREN_ISA_AVX512;
    if (want < 0) {
        fprintf(stderr, "aaren: AAREN_ISA='%s' is not one of scalar, avx2, avx512; using %s\n", e,
                aaren_isa_name(best));
        return best;
    }
    if (!aaren_isa_supported(want)) {
        fprintf(stderr, "aaren: AAREN_ISA=%s: this CPU or build has no %s path; using %s\n", e,
                aaren_isa_name(want), aaren_isa_name(best));
        return best;
    }
    return want;
}

int aaren_isa(void) {
    int c = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (c < 0) {
        c = isa_from_env();
        int expected = -1;   /* a concurrent first call may have set it: keep that one */
        if (!atomic_compare_exchange_strong(&chosen, &expected, c)) c = expected;
    }
    return c;
}

int aaren_isa_set(int isa) {
    if (isa < AAREN_ISA_SCALAR || isa > AAREN_ISA_AVX512 || !aaren_isa_supported(isa)) return -1;
    atomic_store_explicit(&chosen, isa, memory_order_relaxed);
    return 0;
}
