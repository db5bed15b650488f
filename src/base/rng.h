/* Small deterministic random numbers (splitmix64), the same on every platform. */
#ifndef AAREN_BASE_RNG_H
#define AAREN_BASE_RNG_H
#include <math.h>
#include <stdint.h>

static inline uint64_t aaren_rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
/* Uniform in [0, 1) with 53 random bits. */
static inline double aaren_rng_uniform(uint64_t *s) {
    return (double)(aaren_rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}
/* Standard normal (Box-Muller; one value per call). */
static inline double aaren_rng_normal(uint64_t *s) {
    const double u1 = 1.0 - aaren_rng_uniform(s), u2 = aaren_rng_uniform(s);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
#endif
