/* Precision switch for the numerics. Each templated source (*.inc) is compiled twice:
 * once as float32 (the library's working precision, names as written) and once as
 * float64 (names suffixed _f64), which the tests use as the exact reference and for
 * finite-difference gradient checks. A wrapper .c file defines AAREN_F64 or not and
 * includes this header and the .inc file. */
#undef real
#undef FN
#undef R_EXP
#undef R_SQRT
#undef R_ERF
#undef R_FABS
#undef R_LOG
#undef R_INF
#ifdef AAREN_F64
#define real double
#define FN(name) name##_f64
#define R_EXP exp
#define R_SQRT sqrt
#define R_ERF erf
#define R_FABS fabs
#define R_LOG log
#else
#define real float
#define FN(name) name
#define R_EXP expf
#define R_SQRT sqrtf
#define R_ERF erff
#define R_FABS fabsf
#define R_LOG logf
#endif
#define R_INF ((real)INFINITY)
