/* Counting allocations in a test program: include this header in exactly one source
 * file of the test. It defines malloc, calloc, realloc and free, which forward to
 * glibc's and count while `counting` is set; the library and the runtimes then call
 * these. AddressSanitizer replaces the allocator itself, so under it COUNT_ALLOCS is 0
 * and tests report that part as skipped. */
#ifndef AAREN_ALLOC_COUNT_H
#define AAREN_ALLOC_COUNT_H
#include <stdatomic.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#if !UNDER_ASAN && defined(__GLIBC__)
#define COUNT_ALLOCS 1
static atomic_long n_allocs;
static atomic_int counting;
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
void *malloc(size_t n) {
    if (atomic_load(&counting)) atomic_fetch_add(&n_allocs, 1);
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
    if (atomic_load(&counting)) atomic_fetch_add(&n_allocs, 1);
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
    if (atomic_load(&counting)) atomic_fetch_add(&n_allocs, 1);
    return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
#else
#define COUNT_ALLOCS 0
#endif

#endif
