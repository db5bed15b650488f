/* Small text helpers shared by the data loaders (CSV time series, UEA .ts, event CSV). */
#ifndef AAREN_DATA_TEXT_H
#define AAREN_DATA_TEXT_H
#include <stddef.h>

#define AAREN_TEXT_SHOW 32   /* bytes of an offending value shown in a message */

static inline int aaren_text_space(int c) { return c == ' ' || c == '\t'; }
static inline int aaren_text_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* s[0..n) equals the lower-case word w, ignoring case. */
static inline int aaren_text_word_is(const char *s, size_t n, const char *w) {
    size_t i = 0;
    for (; i < n && w[i]; i++)
        if (aaren_text_lower((unsigned char)s[i]) != w[i]) return 0;
    return i == n && !w[i];
}

/* Trims spaces and tabs around s[*a..*b). */
static inline void aaren_text_trim(const char *s, size_t *a, size_t *b) {
    while (*a < *b && aaren_text_space((unsigned char)s[*a])) (*a)++;
    while (*b > *a && aaren_text_space((unsigned char)s[*b - 1])) (*b)--;
}

/* For "%.*s%s" in messages: how many bytes of an n-byte value to show, and "..." when cut. */
static inline int aaren_text_shown(size_t n) { return n > AAREN_TEXT_SHOW ? AAREN_TEXT_SHOW : (int)n; }
static inline const char *aaren_text_dots(size_t n) { return n > AAREN_TEXT_SHOW ? "..." : ""; }
#endif
