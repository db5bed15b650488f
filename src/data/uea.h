/* Time-series classification data in the UEA / sktime `.ts` text format.
 *
 * A file: optional comment lines starting with '#', then header lines starting with '@'
 * (tags case-insensitive), then `@data` and one case per line:
 *   @problemName NAME          kept (the file's base name when absent)
 *   @timeStamps false          "true" is refused (timestamped values are not supported)
 *   @missing true|false        informational; '?' is accepted either way
 *   @univariate true|false     true implies one dimension
 *   @dimensions D              when absent: 1 if univariate, else taken from the first case
 *   @equalLength true|false    true: every case must have the same length
 *   @seriesLength L            with equalLength true: every case must have length L
 *   @classLabel true L1 L2 ... the class labels as strings (whitespace separated); required,
 *                              "false" is refused (regression files: @targetLabel, refused)
 *   @data                      required; cases follow
 * A case line: D dimension fields separated by ':', then the class label after the last ':'.
 * A dimension field: comma-separated decimal numbers (strtod, C locale; spaces around a
 * number allowed), '?' for a missing value (stored as NaN). Every dimension of one case has
 * the same number of values (the case's length, >= 1). Lines end in LF, CRLF or CR; a UTF-8 byte-order mark is skipped; blank lines
 * are skipped; lines may be of any length.
 *
 * Errors: aaren_uea_load returns NULL and writes one line into err naming the file, the
 * line (1-based, counting every line of the file) where it applies, and the fault, e.g.
 * "X_TRAIN.ts: line 12: class label 'z' is not in the @classLabel list (a b c)". Faults:
 * unreadable file; no @data; no @classLabel; a case whose dimension count differs from
 * @dimensions (or from the first case); a non-numeric value (names the dimension and the
 * value's position); dimensions of one case with different lengths; an empty dimension;
 * a label not in the header's list; a length violating @equalLength/@seriesLength; a file
 * with no cases; an unknown @ tag before @data; a duplicate label in the header; more labels
 * than limits.max_classes; a case longer than limits.max_len steps.
 *
 * Layout: case i has len[i] steps; its values are values[off[i] .. off[i] + len[i] * dims),
 * time-major: step t, dimension d at values[off[i] + t * dims + d]. Label indices follow the
 * header's order: labels[y[i]] is the label string of case i.
 * Everything is allocated by aaren_uea_load and released by aaren_uea_free. */
#ifndef AAREN_DATA_UEA_H
#define AAREN_DATA_UEA_H
#include <stddef.h>

typedef struct {
    char *problem;        /* @problemName */
    int dims;             /* D */
    int n_cases;
    int n_classes;
    char **labels;        /* [n_classes] label strings, header order */
    int *y;               /* [n_cases] label index */
    int *len;             /* [n_cases] steps per case */
    size_t *off;          /* [n_cases] offset of each case in values */
    float *values;        /* all cases, time-major within a case; NaN = missing */
    int min_len, max_len;
    long n_missing;       /* count of '?' values */
    int equal_length;     /* as declared by the header (0 when absent) */
} aaren_uea;

/* Resource bounds, so that a small file cannot ask for a model with a million outputs, a
 * confusion matrix of gigabytes or activations for a case of millions of steps. The defaults
 * hold every data set of the UEA archive (at most 60 classes; EigenWorms, the longest, has
 * 17,984 steps). */
enum { AAREN_UEA_MAX_CLASSES = 1000, AAREN_UEA_CLASSES_CEIL = 5000, AAREN_UEA_MAX_LEN = 20000,
       AAREN_UEA_LEN_CEIL = 10000000 };
typedef struct {
    int max_classes;      /* labels in @classLabel at most [AAREN_UEA_MAX_CLASSES], ceiling AAREN_UEA_CLASSES_CEIL */
    long max_len;         /* steps per case at most [AAREN_UEA_MAX_LEN], ceiling AAREN_UEA_LEN_CEIL */
} aaren_uea_limits;
aaren_uea_limits aaren_uea_limits_default(void);

/* lim NULL: the defaults. */
aaren_uea *aaren_uea_load_limited(const char *path, const aaren_uea_limits *lim, char *err, size_t errlen);
aaren_uea *aaren_uea_load(const char *path, char *err, size_t errlen);   /* the default limits */
void aaren_uea_free(aaren_uea *d);
/* Index of label s in d's label list, or -1. */
int aaren_uea_label_index(const aaren_uea *d, const char *s);
#endif
