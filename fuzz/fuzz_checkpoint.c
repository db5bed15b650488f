/* Fuzz harness: every checkpoint loader built on the safetensors reader.
 *
 * Each input is offered, as one file, to
 *   aaren_model_load                       (encoder checkpoints: aaren init / encode / info)
 *   aaren_seqmodel_from_st, aaren_train_load (training runs: aaren train --resume)
 *   aaren_classifier_load                   (aaren classify --model)
 *   aaren_tpp_load                          (aaren events --model)
 *   aaren_dt_load                           (aaren rl eval --model)
 *   aaren_forecaster_load                   (aaren forecast --model, either recipe)
 * Each must either load or fail with a one-line message naming the file; what loaded must
 * hold a valid configuration and parameter blocks of the sizes it reports. (Running a
 * loaded model is not part of this harness: finite but huge weights may rightly give
 * non-finite outputs.) */
#include "common.h"
#include "aaren.h"
#include "aaren_io.h"
#include "tasks/classify.h"
#include "tasks/dt.h"
#include "tasks/forecast.h"
#include "tasks/tpp.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_INPUT = 1 << 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_model(const char *path) {
    char err[512] = "";
    aaren_model *m = aaren_model_load(path, err, sizeof err);
    if (!m) {
        fuzz_check_message("aaren_model_load", path, err);
        return;
    }
    fuzz_note_loaded("aaren_model_load", path);
    const aaren_config *c = aaren_model_config(m);
    FUZZ_ASSERT(aaren_config_check(c, err, sizeof err) == 0);
    FUZZ_ASSERT(aaren_model_n_tensors(m) >= 1);
    fuzz_touch(aaren_model_params(m), aaren_model_n_params(m));
    aaren_model_free(m);
}

static void try_training_run(const char *path) {
    char err[512] = "";
    aaren_st st;
    aaren_st_init(&st);
    if (aaren_st_read(path, &st, err, sizeof err)) {
        fuzz_check_message("aaren_st_read", path, err);
        return;
    }
    aaren_seqmodel *sm = aaren_seqmodel_from_st(&st, path, err, sizeof err);
    aaren_st_free(&st);
    if (!sm) {
        fuzz_check_message("aaren_seqmodel_from_st", path, err);
        return;
    }
    aaren_optim_config oc = aaren_optim_default();
    aaren_adamw *o = aaren_adamw_new(aaren_model_n_trainable(aaren_seqmodel_encoder(sm)), &oc, err, sizeof err);
    FUZZ_ASSERT(o != NULL);
    aaren_st run;
    aaren_st_init(&run);
    if (aaren_train_load(path, sm, o, &run, err, sizeof err)) {
        fuzz_check_message("aaren_train_load", path, err);
    } else {
        fuzz_note_loaded("aaren_train_load", path);
        aaren_st_free(&run);
    }
    aaren_adamw_free(o);
    aaren_seqmodel_free(sm);
}

static void try_classifier(const char *path) {
    char err[512] = "";
    aaren_classifier *c = aaren_classifier_load(path, err, sizeof err);
    if (!c) {
        fuzz_check_message("aaren_classifier_load", path, err);
        return;
    }
    fuzz_note_loaded("aaren_classifier_load", path);
    const int C = aaren_classifier_n_classes(c);
    FUZZ_ASSERT(C >= 1);
    for (int k = 0; k < C; k++) FUZZ_ASSERT(aaren_classifier_label(c, k) != NULL);
    aaren_classifier_free(c);
}

static void try_tpp(const char *path) {
    char err[512] = "";
    aaren_tpp *m = aaren_tpp_load(path, err, sizeof err);
    if (!m) {
        fuzz_check_message("aaren_tpp_load", path, err);
        return;
    }
    fuzz_note_loaded("aaren_tpp_load", path);
    FUZZ_ASSERT(aaren_tpp_n_marks(m) >= 0);
    fuzz_touch(aaren_model_params(aaren_tpp_encoder(m)), aaren_model_n_trainable(aaren_tpp_encoder(m)));
    aaren_tpp_free(m);
}

static void try_dt(const char *path) {
    char err[512] = "";
    aaren_dt *m = aaren_dt_load(path, err, sizeof err);
    if (!m) {
        fuzz_check_message("aaren_dt_load", path, err);
        return;
    }
    fuzz_note_loaded("aaren_dt_load", path);
    FUZZ_ASSERT(aaren_dt_K(m) >= 1);
    aaren_dt_free(m);
}

static void try_forecaster(const char *path) {
    char err[512] = "";
    aaren_forecaster *f = aaren_forecaster_load(path, err, sizeof err);
    if (!f) {
        fuzz_check_message("aaren_forecaster_load", path, err);
        return;
    }
    fuzz_note_loaded("aaren_forecaster_load", path);
    FUZZ_ASSERT(aaren_forecaster_seq_len(f) >= 1 && aaren_forecaster_pred_len(f) >= 1 && aaren_forecaster_d_out(f) >= 1);
    fuzz_touch(aaren_model_params(aaren_forecaster_encoder(f)), aaren_model_n_trainable(aaren_forecaster_encoder(f)));
    aaren_forecaster_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > MAX_INPUT) return 0;
    const char *path = fuzz_put("input.safetensors", data, size);
    try_model(path);
    try_training_run(path);
    try_classifier(path);
    try_tpp(path);
    try_dt(path);
    try_forecaster(path);
    return 0;
}
