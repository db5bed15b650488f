/* The D4RL recipe (see make.h). */
#define _POSIX_C_SOURCE 200809L
#include "rl/make.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "aaren_io.h"
#include "data/d4rl.h"
#include "base/common.h"
#include "rl/datasets.h"
#include "rl/env.h"
#include "rl/policy.h"

void aaren_make_options_init(aaren_env_kind k, aaren_make_options *o) {
    memset(o, 0, sizeof *o);
    aaren_ars_defaults(k, &o->ars);
    o->size = 100000;
    o->action_noise = 0.1f;
    o->eval_episodes = 10;
}

/* The ARS log rows, and the caller's own look at each evaluation. */
typedef struct {
    FILE *log;
    aaren_ars_progress user;
    void *ctx;
} eval_ctx;

static int on_eval(void *vctx, const aaren_ars_report *r) {
    eval_ctx *c = vctx;
    fprintf(c->log, "%d,%ld,%ld,%.3f,%.3f,%.3f,%d,%.2f\n", r->iteration, r->episodes, r->steps, r->eval_return,
            r->eval_std, r->best_return, r->medium_found, r->seconds);
    return c->user ? c->user(c->ctx, r) : 0;
}

/* Writes one data set with its meta; reports its summary line. */
static int write_set(const char *dir, const char *env, const char *set, aaren_d4rl *d, uint64_t seed, float noise,
                     double policy_return, FILE *report, char *err, size_t errlen) {
    char path[1200], v[64];
    snprintf(path, sizeof path, "%s/%s-%s.hdf5", dir, env, set);
    aaren_d4rl_set_meta(d, "env", env);
    aaren_d4rl_set_meta(d, "dataset", set);
    snprintf(v, sizeof v, "%llu", (unsigned long long)seed);
    aaren_d4rl_set_meta(d, "seed", v);
    snprintf(v, sizeof v, "%g", noise);
    aaren_d4rl_set_meta(d, "action_noise", v);
    snprintf(v, sizeof v, "%.3f", policy_return);
    aaren_d4rl_set_meta(d, "policy_return", v);
    aaren_d4rl_set_meta(d, "generator", "aaren rl make-data (ARS behaviour policies)");
    if (aaren_d4rl_save(path, d, err, errlen)) return -1;
    aaren_d4rl_stats s;
    aaren_d4rl_stats_of(d, &s);
    const aaren_env_kind k = (aaren_env_kind)aaren_env_kind_from_name(env);
    if (report)
        fprintf(report, "%-36s %8ld transitions  %5ld episodes  return %9.1f +- %7.1f  score %6.1f\n", path, s.n,
                s.episodes, s.ret_mean, s.ret_std, aaren_env_normalized_score(k, s.ret_mean));
    return 0;
}

int aaren_make_data(aaren_env_kind k, const aaren_make_options *o, const char *dir, aaren_ars_progress user_eval,
                    void *ctx, FILE *report, char *err, size_t errlen) {
    if (!aaren_env_available()) return aaren_errf(err, errlen, "this build has no MuJoCo (install libmujoco-dev and rebuild)");
    if (!aaren_hdf5_available()) return aaren_errf(err, errlen, "this build has no HDF5 (install libhdf5-dev and rebuild)");
    if (mkdir(dir, 0777) && errno != EEXIST) return aaren_file_err(err, errlen, dir, "cannot create the folder: %s", strerror(errno));
    const char *xml = o->xml_dir;
    const uint64_t seed = o->ars.seed;
    char path[1200];
    aaren_env *probe = aaren_env_new(k, xml, err, errlen);
    if (!probe) return -1;
    const int no = aaren_env_obs_dim(probe), na = aaren_env_act_dim(probe);
    aaren_env_free(probe);
    const char *env = aaren_env_name(k);

    aaren_linpolicy med = {0}, exp = {0};
    aaren_episode_store replay, medium, expert;
    aaren_store_init(&replay, no, na);
    aaren_store_init(&medium, no, na);
    aaren_store_init(&expert, no, na);
    aaren_d4rl d = {0};
    unsigned char *keep = NULL;
    int rc = -1;
    if (aaren_linpolicy_init(&med, no, na) || aaren_linpolicy_init(&exp, no, na)) {
        aaren_errf(err, errlen, "rl make-data: out of memory");
        goto done;
    }
    snprintf(path, sizeof path, "%s/%s-ars.csv", dir, env);
    aaren_writer *logw = aaren_writer_open(path, err, errlen);   /* in place when training ends */
    if (!logw) goto done;
    eval_ctx ec = {aaren_writer_file(logw), user_eval, ctx};
    fprintf(ec.log, "iteration,episodes,steps,eval_return,eval_std,best_return,medium_found,seconds\n");
    aaren_ars_result res;
    const double t0 = aaren_now_s();
    if (aaren_ars_train(k, xml, &o->ars, &med, &exp, &replay, on_eval, &ec, &res, err, errlen)) {
        aaren_writer_abort(logw);
        goto done;
    }
    if (aaren_writer_commit(logw, err, errlen)) goto done;
    const double t_train = aaren_now_s() - t0;
    if (!res.medium_reached && report)
        fprintf(report, "%s: warning: no evaluation reached the medium target %.1f; the medium policy is the best one "
                "seen (%.1f)\n", env, o->ars.medium_target, res.medium_at.eval_return);

    /* fresh evaluations of both policies (streams never used in training) */
    double mr, ms, er, es, ml, el;
    const uint64_t eseed = seed * 7919 + 104729;
    if (aaren_policy_evaluate(k, xml, &med, o->eval_episodes, 0, eseed, &mr, &ms, &ml, err, errlen) ||
        aaren_policy_evaluate(k, xml, &exp, o->eval_episodes, 0, eseed, &er, &es, &el, err, errlen))
        goto done;
    const aaren_linpolicy *pols[2] = {&med, &exp};
    const char *pnames[2] = {"medium", "expert"};
    const double prets[2] = {mr, er};
    for (int i = 0; i < 2; i++) {
        char v[3][64];
        const char *keys[3] = {"policy.kind", "policy.eval_return", "policy.seed"};
        const char *vals[3] = {v[0], v[1], v[2]};
        snprintf(v[0], 64, "%s", pnames[i]);
        snprintf(v[1], 64, "%.3f", prets[i]);
        snprintf(v[2], 64, "%llu", (unsigned long long)seed);
        snprintf(path, sizeof path, "%s/%s-%s-policy.safetensors", dir, env, pnames[i]);
        if (aaren_linpolicy_save(path, pols[i], k, 3, keys, vals, err, errlen)) goto done;
    }
    if (report) {
        fprintf(report, "%s: ARS %ld episodes, %ld steps, %.1f s\n", env, res.episodes, res.steps, t_train);
        fprintf(report, "%s: medium policy  return %8.1f +- %6.1f  length %6.1f  score %6.1f  (training evaluation %.1f, "
                "iteration %d)\n", env, mr, ms, ml, aaren_env_normalized_score(k, mr), res.medium_at.eval_return,
                res.medium_at.iteration);
        fprintf(report, "%s: expert policy  return %8.1f +- %6.1f  length %6.1f  score %6.1f  (training evaluation %.1f, "
                "iteration %d)\n", env, er, es, el, aaren_env_normalized_score(k, er), res.expert_at.eval_return,
                res.expert_at.iteration);
    }

    /* the data sets */
    const double t1 = aaren_now_s();
    const float noise = o->action_noise;
    if (aaren_collect(k, xml, &med, noise, o->size, seed * 31 + 1, &medium, err, errlen) ||
        aaren_collect(k, xml, &exp, noise, o->size, seed * 31 + 2, &expert, err, errlen))
        goto done;
    if (aaren_store_to_d4rl(&medium, NULL, NULL, &d, err, errlen) ||
        write_set(dir, env, "medium", &d, seed, noise, mr, report, err, errlen))
        goto done;
    aaren_d4rl_free(&d);
    if (!(keep = malloc(replay.n_ep ? (size_t)replay.n_ep : 1))) {
        aaren_errf(err, errlen, "rl make-data: out of memory");
        goto done;
    }
    aaren_store_thin(&replay, o->size, keep);
    if (aaren_store_to_d4rl(&replay, keep, NULL, &d, err, errlen) ||
        write_set(dir, env, "medium-replay", &d, seed, 0, mr, report, err, errlen))
        goto done;
    aaren_d4rl_free(&d);
    if (aaren_store_to_d4rl(&medium, NULL, &expert, &d, err, errlen) ||
        write_set(dir, env, "medium-expert", &d, seed, noise, er, report, err, errlen))
        goto done;
    if (report) fprintf(report, "%s: data sets written in %.1f s\n", env, aaren_now_s() - t1);
    rc = 0;
done:
    aaren_d4rl_free(&d);
    free(keep);
    aaren_store_free(&replay);
    aaren_store_free(&medium);
    aaren_store_free(&expert);
    aaren_linpolicy_free(&med);
    aaren_linpolicy_free(&exp);
    return rc;
}
