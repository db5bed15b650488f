/* The task of a checkpoint (tasks/serving.h). */
#include "base/common.h"
#include "tasks/serving.h"

int aaren_checkpoint_kind(const char *path, char *err, size_t errlen) {
    aaren_st st;
    aaren_st_init(&st);
    if (aaren_st_read(path, &st, err, errlen)) return -1;
    /* each task's loader requires its first key */
    int kind = AAREN_KIND_ENCODER;
    if (aaren_st_meta(&st, "forecast.seq_len")) kind = AAREN_KIND_FORECAST;
    else if (aaren_st_meta(&st, "classify.labels")) kind = AAREN_KIND_CLASSIFY;
    else if (aaren_st_meta(&st, "tpp.K")) kind = AAREN_KIND_EVENTS;
    else if (aaren_st_meta(&st, "dt.K")) kind = AAREN_KIND_DECISION;
    aaren_st_free(&st);
    return kind;
}

const char *aaren_kind_name(int kind) {
    static const char *const names[] = {"encoder", "forecaster", "classifier", "events", "decision"};
    return kind >= 0 && kind <= AAREN_KIND_DECISION ? names[kind] : "unknown";
}
