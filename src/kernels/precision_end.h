/* Undoes precision.h so headers that include it leave no macros behind. */
#undef real
#undef FN
#undef R_EXP
#undef R_SQRT
#undef R_ERF
#undef R_FABS
#undef R_LOG
#undef R_INF
