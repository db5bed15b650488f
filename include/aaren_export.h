/* AAREN_API marks the library's public functions. The library is compiled with hidden
 * visibility, so only what carries this mark is exported from libaaren.so; everything else
 * stays internal to the library. */
#ifndef AAREN_EXPORT_H
#define AAREN_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define AAREN_API __attribute__((visibility("default")))
#else
#define AAREN_API
#endif

#endif
