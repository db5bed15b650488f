/* The one set of enums of a model's configuration and of a forward pass, with their names as
 * checkpoints and the command line spell them. Used by the public API and by the library's
 * layers alike. */
#ifndef AAREN_ENUMS_H
#define AAREN_ENUMS_H
#include "aaren_export.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { AAREN_ARCH_AAREN = 0, AAREN_ARCH_TRANSFORMER = 1 };
enum { AAREN_NORM_POST = 0, AAREN_NORM_PRE = 1 };
enum { AAREN_GELU = 0, AAREN_RELU = 1 };
/* Attention path of a forward pass: the parallel scan (training path), the quadratic
 * reference, or (Aaren only) the sequential fold. */
enum { AAREN_SCAN = 0, AAREN_NAIVE = 1, AAREN_FOLD = 2 };

/* Names: "aaren" / "transformer", "post" / "pre", "gelu" / "relu", "scan" / "naive" / "fold";
 * the parsers return -1 for any other text (NULL included). */
AAREN_API const char *aaren_arch_name(int arch);
AAREN_API const char *aaren_norm_name(int norm);
AAREN_API const char *aaren_activation_name(int act);
AAREN_API const char *aaren_path_name(int path);
AAREN_API int aaren_arch_from_name(const char *s);
AAREN_API int aaren_norm_from_name(const char *s);
AAREN_API int aaren_activation_from_name(const char *s);
AAREN_API int aaren_path_from_name(const char *s);

#ifdef __cplusplus
}
#endif
#endif
