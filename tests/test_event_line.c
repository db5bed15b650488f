/* One line of `aaren events --stream` (aaren_tpp_parse_event_line): events with and without
 * a mark, the separators, blank and comment lines, line endings, and every malformed line
 * with its message. Each line is handed over in a buffer of exactly its length (no NUL after
 * it), as a reader of raw input would, so a read past the end trips the sanitizer. */
#include "check.h"
#include "tasks/tpp.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[256];

/* Parses line[0, n) from a copy of exactly n bytes. */
static int parse_n(const char *line, size_t n, double *t, int *m) {
    char *copy = malloc(n ? n : 1);
    if (n) memcpy(copy, line, n);
    err[0] = 0;
    const int rc = aaren_tpp_parse_event_line(copy, n, t, m, err, sizeof err);
    free(copy);
    return rc;
}

static int parse(const char *line, double *t, int *m) { return parse_n(line, strlen(line), t, m); }

static void expect_event(const char *line, double time, int mark) {
    double t = -1;
    int m = -2;
    const int rc = parse(line, &t, &m);
    CHECK(rc == 1 && t == time && m == mark, "'%s': rc %d, time %.17g, mark %d (%s)", line, rc, t, m, err);
}

static void expect_skip(const char *line) {
    double t = 42;
    int m = 42;
    const int rc = parse(line, &t, &m);
    CHECK(rc == 0 && t == 42 && m == 42, "'%s' is not skipped: rc %d (%s)", line, rc, err);
}

static void expect_bad(const char *line, size_t n, const char *word) {
    double t = 42;
    int m = 42;
    const int rc = parse_n(line, n, &t, &m);
    CHECK(rc == -1 && t == 42 && m == 42, "'%.*s' accepted: rc %d", (int)n, line, rc);
    CHECK(strstr(err, word) != NULL && strchr(err, '\n') == NULL, "'%.*s': message '%s' lacks '%s'", (int)n, line, err,
          word);
}

int main(void) {
    expect_event("0.5", 0.5, -1);
    expect_event("0.5\n", 0.5, -1);
    expect_event("0.5\r\n", 0.5, -1);
    expect_event("  \t1e-3 \t", 1e-3, -1);
    expect_event("-2.5", -2.5, -1);
    expect_event("1.0 3", 1.0, 3);
    expect_event("1.0,3\n", 1.0, 3);
    expect_event("1.0 , 3 \r\n", 1.0, 3);
    expect_event("1.0\t\t7", 1.0, 7);
    expect_event("1e308 0", 1e308, 0);
    expect_event("5 2147483647", 5, INT_MAX);
    expect_event("+3 +4", 3, 4);
    expect_skip("");
    expect_skip("\n");
    expect_skip("\r\n");
    expect_skip("   \t ");
    expect_skip("# a comment 1 2");
    expect_skip("  #indented comment\n");

    expect_bad("abc", 3, "time 'abc' is not a finite number");
    expect_bad("1.0x 3", 6, "time '1.0x' is not a finite number");
    expect_bad("inf", 3, "time 'inf'");
    expect_bad("nan 1", 5, "time 'nan'");
    expect_bad("1e309", 5, "time '1e309' is not a finite number");
    expect_bad("0x10", 4, "time '0x10'");
    expect_bad(",3", 2, "expected TIME [MARK]");
    expect_bad("1.0,", 4, "expected a mark after the ','");
    expect_bad("1.0 , ,3", 8, "expected a mark after the time, got ',3'");
    expect_bad("1.0 3.5", 7, "mark '3.5' is not an integer from 0 to 2147483647");
    expect_bad("1.0 -1", 6, "mark '-1' is not an integer from 0");
    expect_bad("1.0 2147483648", 14, "mark '2147483648'");
    expect_bad("1.0 99999999999999999999", 24, "mark '99999999999999999999'");
    expect_bad("1.0 x", 5, "mark 'x'");
    expect_bad("1.0 3 4", 7, "unexpected text '4' after the mark");
    expect_bad("1.0 3,", 6, "unexpected text ','");
    expect_bad("1.0 3 # note", 12, "unexpected text '# note'");
    expect_bad("1.0\r\r\n", 6, "time '1.0?' is not a finite number");   /* control characters shown as '?' */
    expect_bad("1.0\0 3", 6, "a NUL byte at column 4");
    expect_bad("1\n2", 3, "time '1?2'");
    {   /* a time longer than any number needs */
        char line[300];
        memset(line, '1', sizeof line);
        expect_bad(line, sizeof line, "is not a finite number");
    }
    {   /* NULL line with length 0: a blank line */
        double t;
        int m;
        CHECK(aaren_tpp_parse_event_line(NULL, 0, &t, &m, err, sizeof err) == 0, "NULL, 0 is a blank line");
    }
    return check_done("test_event_line");
}
