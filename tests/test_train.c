/* Training: AdamW and the learning-rate schedules against their formulas in double, loss
 * masking, learning a synthetic task from scratch (both architectures), bit-exact
 * determinism for a seed, exact resume from a checkpoint, no allocation in a step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "alloc_count.h"
#include "aaren.h"
#include "base/rng.h"
#include "tasks/synthetic.h"

/* ---- AdamW against PyTorch's documented update, written out in double ---------------- */
static void check_adamw(void) {
    const size_t n = 7;
    aaren_optim_config c = aaren_optim_default();
    c.lr = 0.05f; c.weight_decay = 0.1f; c.clip_norm = 0.5f; c.warmup_steps = 2; c.total_steps = 6;
    char err[256];
    aaren_adamw *o = aaren_adamw_new(n, &c, err, sizeof err);
    aaren_adamw_set_decay(o, 5, 2, 0);            /* the last two: no weight decay */
    float p[7], g[7];
    double pd[7], md[7] = {0}, vd[7] = {0};
    uint64_t r = 9;
    for (size_t i = 0; i < n; i++) pd[i] = p[i] = (float)aaren_rng_normal(&r);
    double worst = 0;
    for (int t = 1; t <= 6; t++) {
        double gd[7], ss = 0;
        for (size_t i = 0; i < n; i++) { g[i] = (float)(aaren_rng_normal(&r) * (t == 3 ? 10 : 0.1)); gd[i] = g[i]; ss += gd[i] * gd[i]; }
        const double norm = sqrt(ss), scale = norm > c.clip_norm ? c.clip_norm / norm : 1;
        /* lr: warm-up 1/2, 2/2 of lr, then cosine from lr to 0.1 lr over steps 2..6 */
        const int s = t - 1;
        const double lr = s < 2 ? c.lr * (s + 1) / 2.0 : c.lr * (0.1 + 0.9 * 0.5 * (1 + cos(3.14159265358979323846 * (s - 2) / 4.0)));
        CHECK(fabs(aaren_lr_at(&c, s) - lr) < 1e-7, "lr at step %d: %g, expected %g", s, (double)aaren_lr_at(&c, s), lr);
        for (size_t i = 0; i < n; i++) {
            const double gi = gd[i] * scale;
            if (i < 5) pd[i] *= 1 - lr * c.weight_decay;
            md[i] = 0.9 * md[i] + 0.1 * gi;
            vd[i] = 0.999 * vd[i] + 0.001 * gi * gi;
            const double mh = md[i] / (1 - pow(0.9, t)), vh = vd[i] / (1 - pow(0.999, t));
            pd[i] -= lr * mh / (sqrt(vh) + 1e-8);
        }
        const float got = aaren_adamw_step(o, p, g);
        CHECK(fabs(got - norm) < 1e-5 * norm, "step %d: reported norm %g, expected %g", t, (double)got, norm);
        for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(p[i] - pd[i]));
    }
    CHECK(worst < 2e-6, "AdamW parameters after 6 steps differ from the double reference by %g", worst);
    CHECK(aaren_adamw_steps(o) == 6, "step count");
    /* non-finite gradients leave everything untouched */
    float before[7];
    memcpy(before, p, sizeof p);
    g[2] = NAN;
    CHECK(isnan(aaren_adamw_step(o, p, g)) && !memcmp(before, p, sizeof p), "a NaN gradient changed the parameters");
    aaren_adamw_free(o);
    /* step schedule */
    aaren_optim_config st = aaren_optim_default();
    st.schedule = AAREN_SCHED_STEP; st.step_size = 10; st.gamma = 0.5f; st.lr = 1;
    CHECK(aaren_lr_at(&st, 9) == 1 && aaren_lr_at(&st, 10) == 0.5f && aaren_lr_at(&st, 25) == 0.25f, "step schedule");
}

/* ---- a small model on the running-maximum task ------------------------------------------ */
typedef struct {
    aaren_seqmodel *sm;
    aaren_adamw *o;
    aaren_optim_config oc;
    float *x, *y;
    int B, N;
} run;

static void run_open(run *r, int arch, int B, int N, long total, uint64_t seed) {
    aaren_config c = {arch, 16, 2, 2, 32, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    char err[256];
    r->B = B; r->N = N;
    r->sm = aaren_seqmodel_new(&c, 1, 1, err, sizeof err);
    aaren_seqmodel_init(r->sm, seed);
    CHECK(!aaren_seqmodel_reserve(r->sm, B, N, 1, err, sizeof err), "%s", err);
    r->oc = aaren_optim_default();
    r->oc.lr = 1e-2f; r->oc.warmup_steps = 20; r->oc.total_steps = total;
    r->o = aaren_adamw_new(aaren_model_n_trainable(aaren_seqmodel_encoder(r->sm)), &r->oc, err, sizeof err);
    aaren_seqmodel_decay_mask(r->sm, r->o);
    r->x = malloc(sizeof(float) * B * N);
    r->y = malloc(sizeof(float) * B * N);
}

static void run_close(run *r) {
    aaren_seqmodel_free(r->sm);
    aaren_adamw_free(r->o);
    free(r->x); free(r->y);
}

static float run_step(run *r, long s, float dropout) {
    char err[256];
    aaren_synth_running_max(r->x, r->y, r->B, r->N, 5, s);
    aaren_batch b = {r->x, r->B, r->N, r->y, NULL, NULL, AAREN_LOSS_MSE, 0, NULL, NULL};
    const float l = aaren_train_step(r->sm, r->o, &b, dropout, 77 + (uint64_t)s, NULL, err, sizeof err);
    if (isnan(l)) CHECK(0, "train step: %s", err);
    return l;
}

static double run_eval(run *r) {
    char err[256];
    double sum = 0;
    for (int k = 0; k < 4; k++) {
        aaren_synth_running_max(r->x, r->y, r->B, r->N, 5, 900000 + k);
        aaren_seqmodel_forward(r->sm, r->x, r->B, r->N, AAREN_SCAN, err, sizeof err);
        sum += aaren_seqmodel_loss_mse(r->sm, r->y, NULL, 0);
    }
    return sum / 4;
}

static void check_learns(int arch) {
    const long steps = 250;
    run r;
    run_open(&r, arch, 16, 48, steps, 3);
    const double before = run_eval(&r);
    for (long s = 0; s < steps; s++) run_step(&r, s, 0);
    const double after = run_eval(&r);
    double mean_mse, noisy;
    aaren_synth_running_max_baselines(16, 48, 5, 16, &mean_mse, &noisy);
    printf("  %s: test MSE untrained %.4f, trained %.4f; mean predictor %.4f, noisy running max %.4f\n",
           aaren_arch_name(arch), before, after, mean_mse, noisy);
    CHECK(after < 0.25 * mean_mse && after < 0.25 * before, "%s did not learn the running maximum: MSE %.4f "
          "(untrained %.4f, mean predictor %.4f)", aaren_arch_name(arch), after, before, mean_mse);
    run_close(&r);
}

static void check_deterministic_and_resume(int arch) {
    const long total = 24, half = 11;
    float la[24], lb[24];
    run a, b;
    run_open(&a, arch, 4, 20, total, 8);
    for (long s = 0; s < total; s++) la[s] = run_step(&a, s, 0.1f);
    run_open(&b, arch, 4, 20, total, 8);
    for (long s = 0; s < total; s++) lb[s] = run_step(&b, s, 0.1f);
    CHECK(!memcmp(la, lb, sizeof la), "%s: two runs with one seed differ", aaren_arch_name(arch));
    run_close(&b);
    /* stop at `half`, save, restore into a fresh model and optimizer, continue */
    char err[256];
    run c;
    run_open(&c, arch, 4, 20, total, 8);
    for (long s = 0; s < half; s++) run_step(&c, s, 0.1f);
    const char *kv[] = {"train.note", "resume test"};
    CHECK(!aaren_train_save("test_train_ckpt.safetensors", c.sm, c.o, kv, 1, err, sizeof err), "%s", err);
    run_close(&c);
    run d;
    run_open(&d, arch, 4, 20, total, 999);   /* different init: everything must come from the file */
    aaren_st st;
    CHECK(!aaren_train_load("test_train_ckpt.safetensors", d.sm, d.o, &st, err, sizeof err), "%s", err);
    CHECK(aaren_st_meta(&st, "train.note") && !strcmp(aaren_st_meta(&st, "train.note"), "resume test"), "metadata kept");
    aaren_st_free(&st);
    CHECK(aaren_adamw_steps(d.o) == half, "resumed at step %ld", aaren_adamw_steps(d.o));
    int same = 1;
    for (long s = half; s < total; s++) same &= run_step(&d, s, 0.1f) == la[s];
    const aaren_model *ea = aaren_seqmodel_encoder(a.sm), *ed = aaren_seqmodel_encoder(d.sm);
    CHECK(same && !memcmp(aaren_model_params(ea), aaren_model_params(ed), aaren_model_n_trainable(ea) * sizeof(float)),
          "%s: a resumed run differs from the uninterrupted one", aaren_arch_name(arch));
    /* a checkpoint of another shape is refused with both shapes named */
    run e;
    aaren_config c2 = {arch, 8, 2, 1, 16, AAREN_NORM_POST, AAREN_GELU, 1e-5f};
    e.sm = aaren_seqmodel_new(&c2, 1, 1, err, sizeof err);
    e.o = aaren_adamw_new(aaren_model_n_trainable(aaren_seqmodel_encoder(e.sm)), &d.oc, err, sizeof err);
    CHECK(aaren_train_load("test_train_ckpt.safetensors", e.sm, e.o, &st, err, sizeof err) != 0 &&
          strstr(err, "d_model 16") && strstr(err, "d_model 8"), "mismatched resume message: %s", err);
    aaren_seqmodel_free(e.sm);
    aaren_adamw_free(e.o);
    remove("test_train_ckpt.safetensors");
    run_close(&a);
    run_close(&d);
}

/* Padding never reaches a loss: ragged sequences in one batch give the losses of the
 * same sequences alone; the many-to-one loss is the per-token loss at the last position. */
static void check_masks(int arch) {
    char err[256];
    aaren_config c = {arch, 8, 2, 1, 16, AAREN_NORM_PRE, AAREN_GELU, 1e-5f};
    aaren_seqmodel *sm = aaren_seqmodel_new(&c, 3, 4, err, sizeof err);
    aaren_seqmodel_init(sm, 4);
    aaren_seqmodel_reserve(sm, 2, 9, 1, err, sizeof err);
    float x[2 * 9 * 3], tg[2 * 9 * 4];
    int lab[2 * 9], len[2] = {9, 5};
    uint64_t r = 1;
    for (int i = 0; i < 2 * 9 * 3; i++) x[i] = (float)aaren_rng_normal(&r);
    for (int i = 0; i < 2 * 9 * 4; i++) tg[i] = (float)aaren_rng_normal(&r);
    for (int i = 0; i < 2 * 9; i++) lab[i] = (int)(aaren_rng_uniform(&r) * 4);
    for (int i = 5 * 3; i < 9 * 3; i++) x[9 * 3 + i] = 1e3f;   /* garbage padding in sequence 1 */
    aaren_seqmodel_forward(sm, x, 2, 9, AAREN_SCAN, err, sizeof err);
    const float ce_batch = aaren_seqmodel_loss_ce(sm, lab, len, 0);
    const float mse_batch = aaren_seqmodel_loss_mse(sm, tg, len, 0);
    /* sequence 1 alone, 5 tokens */
    aaren_seqmodel_forward(sm, x + 9 * 3, 1, 5, AAREN_SCAN, err, sizeof err);
    const float ce1 = aaren_seqmodel_loss_ce(sm, lab + 9, NULL, 0);
    float tg1[5 * 4];
    memcpy(tg1, tg + 9 * 4, sizeof tg1);
    const float mse1 = aaren_seqmodel_loss_mse(sm, tg1, NULL, 0);
    aaren_seqmodel_forward(sm, x, 1, 9, AAREN_SCAN, err, sizeof err);
    const float ce0 = aaren_seqmodel_loss_ce(sm, lab, NULL, 0);
    const float mse0 = aaren_seqmodel_loss_mse(sm, tg, NULL, 0);
    CHECK(fabsf(ce_batch - (9 * ce0 + 5 * ce1) / 14) < 1e-5f, "%s: ragged CE %g vs %g", aaren_arch_name(arch),
          (double)ce_batch, (double)((9 * ce0 + 5 * ce1) / 14));
    CHECK(fabsf(mse_batch - (9 * mse0 + 5 * mse1) / 14) < 1e-5f, "%s: ragged MSE", aaren_arch_name(arch));
    /* many-to-one: the last valid position of each sequence */
    aaren_seqmodel_forward(sm, x, 2, 9, AAREN_SCAN, err, sizeof err);
    int last_lab[2] = {lab[8], lab[9 + 4]};
    const float ce_last = aaren_seqmodel_loss_ce(sm, last_lab, len, 1);
    /* the loss at the last position alone = (sum over t <= last) - (sum over t < last) */
    int l = 9;
    aaren_seqmodel_forward(sm, x, 1, 9, AAREN_SCAN, err, sizeof err);
    const float s9 = aaren_seqmodel_loss_ce(sm, lab, &l, 0) * 9;
    l = 8;
    const float a0 = s9 - aaren_seqmodel_loss_ce(sm, lab, &l, 0) * 8;
    aaren_seqmodel_forward(sm, x + 9 * 3, 1, 5, AAREN_SCAN, err, sizeof err);
    l = 5;
    const float s5 = aaren_seqmodel_loss_ce(sm, lab + 9, &l, 0) * 5;
    l = 4;
    const float a1 = s5 - aaren_seqmodel_loss_ce(sm, lab + 9, &l, 0) * 4;
    CHECK(fabsf(ce_last - (a0 + a1) / 2) < 1e-4f, "%s: many-to-one CE %g vs %g", aaren_arch_name(arch),
          (double)ce_last, (double)((a0 + a1) / 2));
    /* the head at last tokens only gives the same loss and gradients as the full forward */
    aaren_model *enc = aaren_seqmodel_encoder(sm);
    const size_t np = aaren_model_n_trainable(enc);
    float *g1 = malloc(np * sizeof(float));
    aaren_model_zero_grad(enc);
    aaren_seqmodel_forward(sm, x, 2, 9, AAREN_SCAN, err, sizeof err);
    const float full = aaren_seqmodel_loss_ce(sm, last_lab, len, 1);
    aaren_seqmodel_backward(sm, err, sizeof err);
    memcpy(g1, aaren_model_grads(enc), np * sizeof(float));
    aaren_model_zero_grad(enc);
    CHECK(aaren_seqmodel_forward_last(sm, x, 2, 9, len, AAREN_SCAN, err, sizeof err) != NULL, "%s", err);
    const float lastonly = aaren_seqmodel_loss_ce(sm, last_lab, NULL, 0);
    CHECK(!aaren_seqmodel_backward(sm, err, sizeof err), "%s", err);
    double gd = 0, gs = 0;
    for (size_t i = 0; i < np; i++) { gd = fmax(gd, fabs(g1[i] - aaren_model_grads(enc)[i])); gs = fmax(gs, fabs(g1[i])); }
    CHECK(fabsf(full - lastonly) < 1e-6f && gd < 1e-5 * gs, "%s: head at last tokens: loss %g vs %g, gradients differ by %g",
          aaren_arch_name(arch), (double)lastonly, (double)full, gd);
    int bad[2] = {9, 0};
    CHECK(!aaren_seqmodel_forward_last(sm, x, 2, 9, bad, AAREN_SCAN, err, sizeof err) && strstr(err, "length 0"),
          "a zero length is refused: %s", err);
    free(g1);
    aaren_seqmodel_free(sm);
}

static void check_no_alloc(void) {
#if COUNT_ALLOCS
    run r;
    run_open(&r, AAREN_ARCH_AAREN, 4, 16, 10, 1);
    run_step(&r, 0, 0.1f);                  /* first use of the OpenMP runtime allocates */
    atomic_store(&n_allocs, 0);
    atomic_store(&counting, 1);
    for (long s = 1; s < 4; s++) run_step(&r, s, 0.1f);
    /* batch and length may change from step to step within the reserved sizes */
    const int shapes[3][2] = {{2, 16}, {4, 5}, {1, 1}};
    for (int k = 0; k < 3; k++) {
        char err[256];
        aaren_synth_running_max(r.x, r.y, shapes[k][0], shapes[k][1], 5, 100 + k);
        aaren_batch b = {r.x, shapes[k][0], shapes[k][1], r.y, NULL, NULL, AAREN_LOSS_MSE, 0, NULL, NULL};
        CHECK(!isnan(aaren_train_step(r.sm, r.o, &b, 0.1f, 5, NULL, err, sizeof err)), "%d x %d step: %s",
              shapes[k][0], shapes[k][1], err);
    }
    atomic_store(&counting, 0);
    CHECK(atomic_load(&n_allocs) == 0, "training steps allocated %ld times", (long)atomic_load(&n_allocs));
    run_close(&r);
#else
    printf("  no-allocation check skipped: AddressSanitizer replaces the allocator\n");
#endif
}

int main(void) {
    check_adamw();
    for (int arch = 0; arch < 2; arch++) {
        check_masks(arch);
        check_deterministic_and_resume(arch);
        check_learns(arch);
    }
    check_no_alloc();
    return check_done("test_train");
}
