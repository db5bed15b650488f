/* The event model's likelihoods and baselines (tasks/tpp.h):
 *  - the Poisson baseline's per-event NLL and THP-form log-likelihood against their closed
 *    forms on a homogeneous Poisson process, with and without a window end, marks included;
 *  - the neural model's THP-form log-likelihood: equal to minus its NLL when each window ends
 *    at the last event, and with a window end placed at the model's own 10% / 50% / 90%
 *    quantile of the next gap its survival term is log 0.9 / log 0.5 / log 0.1 (the integral
 *    of the intensity after the last event; test_lnmix checks log S against the integrated
 *    hazard in double);
 *  - the Hawkes process: its log-likelihood against a direct O(n^2) sum in double, its
 *    metrics against the same sums, the mean and median of the next gap against numerical
 *    integration and root finding, and the maximum-likelihood fit against the parameters of
 *    simulated data (and never below the likelihood at those parameters);
 *  - the tied mark head learns a repeated-mark rule over many rare marks and loads back;
 *  - the copy logit: its start at TRAIN's repeat rate, its gradient (and the head's) against
 *    central differences of the training loss, a repeated-mark rule learnt in two epochs where
 *    the plain head has not, the same predictions streamed, after loading, and through the
 *    parallel path; refused on unmarked data. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "base/rng.h"
#include "tasks/tpp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char err[512];

/* An empty data set with room for n_seq sequences and cap events (marks when n_marks > 0). */
static aaren_events *new_events(int n_seq, long cap, int n_marks) {
    aaren_events *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->off = calloc((size_t)n_seq + 1, sizeof *d->off);
    d->time = malloc(sizeof *d->time * (size_t)(cap > 0 ? cap : 1));
    d->split = calloc((size_t)n_seq, sizeof *d->split);
    d->mark = n_marks > 0 ? calloc((size_t)cap, sizeof *d->mark) : NULL;
    d->n_marks = n_marks;
    if (!d->off || !d->time || !d->split || (n_marks > 0 && !d->mark)) { aaren_events_free(d); return NULL; }
    return d;
}

static void end_sequence(aaren_events *d, int s, int split) {
    d->split[s] = split;
    d->off[s + 1] = d->n_events;
    if (d->n_events - d->off[s] > d->max_len) d->max_len = (int)(d->n_events - d->off[s]);
    d->n_seq = s + 1;
}

/* Homogeneous Poisson sequences of rate r on [0, W): the first event at 0 (conditioned on),
 * then exponential gaps; splits 60/20/20 in order; marks uniform over n_marks. */
static aaren_events *poisson_data(int n_seq, double r, double W, int n_marks, uint64_t seed) {
    aaren_events *d = new_events(n_seq, (long)(n_seq * (r * W * 1.5 + 20)), n_marks);
    if (!d) return NULL;
    uint64_t g = seed;
    for (int s = 0; s < n_seq; s++) {
        double t = 0;
        for (;;) {
            if (d->mark) d->mark[d->n_events] = (int)(aaren_rng_uniform(&g) * n_marks) % n_marks;
            d->time[d->n_events++] = t;
            t += -log(1 - aaren_rng_uniform(&g)) / r;
            if (t >= W) break;
        }
        end_sequence(d, s, s < n_seq * 6 / 10 ? AAREN_EV_TRAIN : s < n_seq * 8 / 10 ? AAREN_EV_VAL : AAREN_EV_TEST);
    }
    d->window_end = W;
    return d;
}

static void test_poisson_closed_form(void) {
    const int C = 5;
    aaren_events *d = poisson_data(200, 1.7, 12, C, 3);
    CHECK(d != NULL, "poisson data");
    if (!d) return;
    /* the closed forms: rate = training gaps / training gap time; per predicted event
     * NLL = -log r + r tau; whole windows: n log r - r sum (W - t_first) */
    double Ttr = 0, ntr = 0, ntest = 0, sum_tau = 0, sum_win = 0, mark_nll = 0;
    long freq[5] = {0};
    for (int s = 0; s < d->n_seq; s++)
        if (d->split[s] == AAREN_EV_TRAIN)
            for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) { Ttr += d->time[e] - d->time[e - 1]; ntr++; freq[d->mark[e]]++; }
    const double r = ntr / Ttr;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != AAREN_EV_TEST) continue;
        sum_win += d->window_end - d->time[d->off[s]];
        for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) {
            sum_tau += d->time[e] - d->time[e - 1];
            mark_nll -= log((freq[d->mark[e]] + 1) / (ntr + C));
            ntest++;
        }
    }
    aaren_tpp_metrics m;
    aaren_tpp_poisson(d, AAREN_EV_TEST, &m);
    const double nll_time = (-ntest * log(r) + r * sum_tau) / ntest, ll_time = (ntest * log(r) - r * sum_win) / ntest;
    CHECK(m.n_pred == (long)ntest, "poisson: %ld predicted events, expected %.0f", m.n_pred, ntest);
    CHECK(fabs(m.nll_time - nll_time) < 1e-12 * (1 + fabs(nll_time)), "poisson: time NLL %.15g vs closed form %.15g", m.nll_time,
          nll_time);
    CHECK(fabs(m.ll_time - ll_time) < 1e-12 * (1 + fabs(ll_time)), "poisson: THP-form LL %.15g vs closed form %.15g", m.ll_time,
          ll_time);
    CHECK(fabs(m.nll_mark - mark_nll / ntest) < 1e-12 && fabs(m.ll - (ll_time - mark_nll / ntest)) < 1e-12,
          "poisson: mark part %.15g vs %.15g, LL %.15g", m.nll_mark, mark_nll / ntest, m.ll);
    /* the survival after the last event makes the difference, and it is not 0 here */
    CHECK(m.ll_time < -m.nll_time - 1e-3, "poisson: the window after the last event changed nothing (%.6g vs %.6g)", m.ll_time,
          -m.nll_time);
    /* the same process scored by the Hawkes code with alpha = 0 gives the same figures */
    aaren_hawkes h = {r, 0, 1.0, 0, 0};
    aaren_tpp_metrics mh;
    aaren_tpp_hawkes(d, &h, AAREN_EV_TEST, &mh);
    CHECK(fabs(mh.nll - m.nll) < 1e-12 && fabs(mh.ll - m.ll) < 1e-12 && fabs(mh.rmse - m.rmse) < 1e-12 &&
          fabs(mh.rmse_median - m.rmse_median) < 1e-9 && mh.acc == m.acc,
          "hawkes with alpha 0 vs poisson: NLL %.12g / %.12g, LL %.12g / %.12g, RMSE %.12g / %.12g, median RMSE %.12g / %.12g",
          mh.nll, m.nll, mh.ll, m.ll, mh.rmse, m.rmse, mh.rmse_median, m.rmse_median);
    /* without a window end the two forms agree */
    d->window_end = 0;
    aaren_tpp_poisson(d, AAREN_EV_TEST, &m);
    CHECK(fabs(m.ll + m.nll) < 1e-12, "poisson, windows ending at the last event: LL %.15g vs -NLL %.15g", m.ll, -m.nll);
    aaren_events_free(d);
}

static void test_model_ll(void) {
    aaren_events *d = poisson_data(40, 1.0, 15, 4, 7);
    CHECK(d != NULL, "model data");
    if (!d) return;
    aaren_tpp_options o;
    aaren_tpp_options_init(&o);
    o.enc.d_model = 16; o.enc.n_heads = 2; o.enc.n_layers = 1; o.enc.d_ff = 32;
    o.K = 3;
    o.batch = 4;
    aaren_tpp *m = aaren_tpp_new(d, &o, err, sizeof err);
    CHECK(m != NULL, "model: %s", err);
    if (!m) { aaren_events_free(d); return; }
    aaren_tpp_metrics a;
    d->window_end = 0;
    int rc = aaren_tpp_evaluate(m, d, AAREN_EV_TEST, &a, err, sizeof err) || aaren_tpp_evaluate_ll(m, d, AAREN_EV_TEST, &a, err, sizeof err);
    CHECK(!rc, "evaluate: %s", err);
    CHECK(!rc && fabs(a.ll + a.nll) < 1e-5 * (1 + fabs(a.nll)) && fabs(a.ll_time + a.nll_time) < 1e-5 * (1 + fabs(a.nll_time)),
          "model, windows ending at the last event: LL %.9g vs -NLL %.9g (time %.9g vs %.9g)", a.ll, -a.nll, a.ll_time, -a.nll_time);
    CHECK(!rc && a.rmse_median > 0 && isfinite(a.rmse_median), "model: median RMSE %.6g", a.rmse_median);
    /* one TEST sequence; the window ends at a quantile q of the model's next-gap prediction
     * at the last event: the survival term is log(1 - q) */
    int test_seq = -1;
    for (int s = 0; s < d->n_seq; s++)
        if (d->split[s] == AAREN_EV_TEST) {
            if (test_seq < 0 && d->off[s + 1] - d->off[s] > 2) test_seq = s;
            else d->split[s] = AAREN_EV_VAL;
        }
    CHECK(test_seq >= 0, "model: no test sequence");
    if (test_seq >= 0) {
        const long n = d->off[test_seq + 1] - d->off[test_seq];
        aaren_tpp_prediction *p = malloc(sizeof *p * (size_t)n);
        rc = !p || aaren_tpp_predict_sequence(m, d, test_seq, p, NULL, err, sizeof err);
        CHECK(!rc, "predict: %s", err);
        const double t_last = d->time[d->off[test_seq + 1] - 1];
        for (int j = 0; !rc && j < 3; j++) {
            const double q = j == 0 ? 0.1 : j == 1 ? 0.5 : 0.9, gap = j == 0 ? p[n - 1].q10 : j == 1 ? p[n - 1].median : p[n - 1].q90;
            d->window_end = t_last + gap;
            aaren_tpp_metrics b;
            rc = aaren_tpp_evaluate(m, d, AAREN_EV_TEST, &b, err, sizeof err) || aaren_tpp_evaluate_ll(m, d, AAREN_EV_TEST, &b, err, sizeof err);
            CHECK(!rc, "evaluate: %s", err);
            const double surv = (b.ll + b.nll) * b.n_pred, surv_t = (b.ll_time + b.nll_time) * b.n_pred;
            CHECK(fabs(surv - log(1 - q)) < 2e-4 && fabs(surv_t - log(1 - q)) < 2e-4,
                  "model: window end at the %.0f%% quantile: survival term %.7f (time part %.7f), expected log %.1f = %.7f", 100 * q,
                  surv, surv_t, 1 - q, log(1 - q));
        }
        free(p);
    }
    aaren_tpp_free(m);
    aaren_events_free(d);

    /* a TEST sequence of one event adds its survival term only: A = (0, 0.01, 0.02) and B = (0);
     * the window ends at B's predicted median gap, so adding B to TEST adds log 0.5 (within 1e-3:
     * the median is found to ~1e-7 in log tau, and the batch of two is another float path) */
    d = new_events(6, 40, 2);
    CHECK(d != NULL, "one-event data");
    if (!d) return;
    for (int s = 0; s < 4; s++) {   /* TRAIN x3, VAL: gaps around 1 */
        for (int i = 0; i < 6; i++) { d->mark[d->n_events] = i % 2; d->time[d->n_events++] = i * (1.0 + 0.1 * s); }
        end_sequence(d, s, s < 3 ? AAREN_EV_TRAIN : AAREN_EV_VAL);
    }
    for (int i = 0; i < 3; i++) { d->mark[d->n_events] = 0; d->time[d->n_events++] = 0.01 * i; }
    end_sequence(d, 4, AAREN_EV_TEST);
    d->mark[d->n_events] = 1;
    d->time[d->n_events++] = 0;
    end_sequence(d, 5, AAREN_EV_TEST);
    m = aaren_tpp_new(d, &o, err, sizeof err);
    aaren_tpp_prediction pb;
    rc = !m || aaren_tpp_predict_sequence(m, d, 5, &pb, NULL, err, sizeof err);
    CHECK(!rc && pb.median > 0.02, "one-event sequence: %s (median %g)", err, rc ? 0 : pb.median);
    if (!rc) {
        aaren_tpp_metrics x, y;
        d->window_end = pb.median;
        d->split[5] = AAREN_EV_VAL;
        rc = aaren_tpp_evaluate(m, d, AAREN_EV_TEST, &x, err, sizeof err) || aaren_tpp_evaluate_ll(m, d, AAREN_EV_TEST, &x, err, sizeof err);
        d->split[5] = AAREN_EV_TEST;
        rc = rc || aaren_tpp_evaluate(m, d, AAREN_EV_TEST, &y, err, sizeof err) || aaren_tpp_evaluate_ll(m, d, AAREN_EV_TEST, &y, err, sizeof err);
        CHECK(!rc && x.n_pred == 2 && y.n_pred == 2 && fabs((y.ll - x.ll) * 2 - log(0.5)) < 1e-3,
              "one-event sequence: survival term %.7f, expected log 0.5 = %.7f (%s)", (y.ll - x.ll) * 2, log(0.5), err);
    }
    aaren_tpp_free(m);
    aaren_events_free(d);
}

/* ---- Hawkes ------------------------------------------------------------------------------ */

/* The log-likelihood by its definition: every event's intensity from every earlier event. */
static double hawkes_direct(const aaren_events *d, int split, double mu, double al, double be) {
    double ll = 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != split) continue;
        const long a = d->off[s], b = d->off[s + 1];
        if (a == b) continue;
        const double W = d->window_end > d->time[b - 1] ? d->window_end : d->time[b - 1];
        for (long i = a + 1; i < b; i++) {
            double lam = mu;
            for (long j = a; j < i; j++) lam += al * exp(-be * (d->time[i] - d->time[j]));
            ll += log(lam);
        }
        ll -= mu * (W - d->time[a]);
        for (long j = a; j < b; j++) ll -= al / be * (1 - exp(-be * (W - d->time[j])));
    }
    return ll;
}

/* Sequences of a Hawkes process on [0, W] with an event at 0 (conditioned on), by Ogata's
 * thinning: the intensity decays between events, so its value just after the last accepted
 * or rejected point bounds it until the next. */
static aaren_events *hawkes_data(int n_seq, double mu, double al, double be, double W, uint64_t seed) {
    aaren_events *d = new_events(n_seq, (long)(n_seq * (mu * W / (1 - al / be) * 2 + 50)), 0);
    if (!d) return NULL;
    uint64_t g = seed;
    for (int s = 0; s < n_seq; s++) {
        double t = 0, exc = 1;   /* exc: sum of exp(-beta (t - t_j)) over accepted events, at t */
        d->time[d->n_events++] = 0;
        for (;;) {
            const double bound = mu + al * exc;
            const double w = -log(1 - aaren_rng_uniform(&g)) / bound;
            t += w;
            exc *= exp(-be * w);
            if (t >= W) break;
            if (aaren_rng_uniform(&g) * bound <= mu + al * exc) {
                d->time[d->n_events++] = t;
                exc += 1;
            }
        }
        end_sequence(d, s, s < n_seq * 6 / 10 ? AAREN_EV_TRAIN : s < n_seq * 8 / 10 ? AAREN_EV_VAL : AAREN_EV_TEST);
    }
    d->window_end = W;
    return d;
}

static void test_hawkes(void) {
    /* the likelihood against the direct sum, with and without a window end, equal times included */
    aaren_events *d = hawkes_data(30, 0.7, 1.1, 2.5, 20, 5);
    CHECK(d != NULL, "hawkes data");
    if (!d) return;
    d->time[d->off[1] + 2] = d->time[d->off[1] + 1];   /* two events at the same time */
    const double ps[3][3] = {{0.7, 1.1, 2.5}, {0.2, 0.05, 0.3}, {2.0, 3.0, 40.0}};
    for (int k = 0; k < 3; k++)
        for (int w = 0; w < 2; w++) {
            const double keep = d->window_end;
            if (!w) d->window_end = 0;
            aaren_hawkes h = {ps[k][0], ps[k][1], ps[k][2], 0, 0};
            long n;
            const double got = aaren_hawkes_loglik(d, AAREN_EV_TRAIN, &h, &n), want = hawkes_direct(d, AAREN_EV_TRAIN, h.mu, h.alpha, h.beta);
            CHECK(fabs(got - want) < 1e-10 * (1 + fabs(want)), "hawkes (%g, %g, %g), window %d: log-likelihood %.15g vs direct %.15g",
                  h.mu, h.alpha, h.beta, w, got, want);
            aaren_tpp_metrics m;
            aaren_tpp_hawkes(d, &h, AAREN_EV_TEST, &m);
            const double wt = hawkes_direct(d, AAREN_EV_TEST, h.mu, h.alpha, h.beta);
            CHECK(fabs(m.ll_time * m.n_pred - wt) < 1e-9 * (1 + fabs(wt)) && fabs(m.ll - m.ll_time) < 1e-15,
                  "hawkes metrics: THP-form LL x n %.12g vs direct %.12g", m.ll_time * m.n_pred, wt);
            if (!w) CHECK(fabs(m.ll + m.nll) < 1e-12, "hawkes without window end: LL %.15g vs -NLL %.15g", m.ll, -m.nll);
            d->window_end = keep;
        }
    aaren_events_free(d);

    /* the mean and median of the next gap: one TEST sequence of two events at 0 and 1e-12, so
     * the RMSEs are the predictions after one event (B = 1) */
    d = new_events(3, 6, 0);
    CHECK(d != NULL, "small data");
    if (!d) return;
    const double t2[3][2] = {{0, 1}, {0, 2}, {0, 1e-12}};
    for (int s = 0; s < 3; s++) {
        d->time[d->n_events++] = t2[s][0];
        d->time[d->n_events++] = t2[s][1];
        end_sequence(d, s, s);
    }
    const double hp[2][3] = {{0.3, 2.0, 1.5}, {1.2, 0.4, 9.0}};
    for (int k = 0; k < 2; k++) {
        const double mu = hp[k][0], al = hp[k][1], be = hp[k][2];
        aaren_hawkes h = {mu, al, be, 0, 0};
        aaren_tpp_metrics m;
        aaren_tpp_hawkes(d, &h, AAREN_EV_TEST, &m);
        /* E[tau] = integral of exp(-Lambda): Simpson in u = log(1 + mu tau) up to Lambda ~ 50 */
        double mean = 0;
        const double U = log(1 + 60.0), hstep = U / 200000;
        for (int i = 0; i <= 200000; i++) {
            const double u = i * hstep, tau = (exp(u) - 1) / mu;
            const double f = exp(-(mu * tau + al / be * (1 - exp(-be * tau)))) * exp(u) / mu;
            mean += f * (i == 0 || i == 200000 ? 1 : i % 2 ? 4 : 2);
        }
        mean *= hstep / 3;
        double lo = 0, hi = 10 / mu;
        for (int i = 0; i < 200; i++) {
            const double mid = 0.5 * (lo + hi);
            if (mu * mid + al / be * (1 - exp(-be * mid)) < log(2.0)) lo = mid;
            else hi = mid;
        }
        CHECK(fabs(m.rmse - mean) < 1e-8 * mean, "hawkes (%g, %g, %g): mean gap %.12g vs numerical integral %.12g", mu, al, be,
              m.rmse, mean);
        CHECK(fabs(m.rmse_median - lo) < 1e-9 * lo, "hawkes: median gap %.12g vs root %.12g", m.rmse_median, lo);
    }
    aaren_events_free(d);

    /* the fit recovers simulated parameters (about 9,000 training events) */
    const double mu = 0.5, al = 0.8, be = 2.0;
    d = hawkes_data(500, mu, al, be, 50, 17);
    CHECK(d != NULL, "fit data");
    if (!d) return;
    aaren_hawkes h;
    const int rc = aaren_hawkes_fit(d, &h, err, sizeof err);
    CHECK(rc == 0, "fit: %s", err);
    aaren_hawkes truth = {mu, al, be, 0, 0};
    const double at_truth = aaren_hawkes_loglik(d, AAREN_EV_TRAIN, &truth, NULL);
    CHECK(h.loglik >= at_truth - 1e-9 * fabs(at_truth), "fit: log-likelihood %.9g below the true parameters' %.9g", h.loglik,
          at_truth);
    CHECK(fabs(h.mu / mu - 1) < 0.1 && fabs(h.alpha / al - 1) < 0.15 && fabs(h.beta / be - 1) < 0.15 &&
          fabs(h.alpha / h.beta - al / be) < 0.05,
          "fit: mu %.4f alpha %.4f beta %.4f, simulated with %.2f %.2f %.2f (%ld events)", h.mu, h.alpha, h.beta, mu, al, be,
          h.n_events);
    /* a small perturbation of the fit never does better (a maximum, not a stationary point) */
    for (int k = 0; k < 6; k++) {
        aaren_hawkes p = h;
        const double f = k % 2 ? 0.99 : 1.01;
        if (k < 2) p.mu *= f; else if (k < 4) p.alpha *= f; else p.beta *= f;
        CHECK(aaren_hawkes_loglik(d, AAREN_EV_TRAIN, &p, NULL) <= h.loglik + 1e-9 * fabs(h.loglik), "fit: perturbation %d is better", k);
    }
    aaren_events_free(d);

    /* Poisson data: the excitation comes out small */
    d = poisson_data(300, 1.0, 40, 0, 23);
    CHECK(d != NULL && aaren_hawkes_fit(d, &h, err, sizeof err) == 0, "fit poisson: %s", err);
    if (d) CHECK(h.alpha / h.beta < 0.05 && fabs(h.mu - 1) < 0.1, "fit on Poisson data: mu %.4f, branching ratio %.4f", h.mu, h.alpha / h.beta);
    aaren_events_free(d);
    /* no training gaps: an error */
    d = new_events(3, 3, 0);
    for (int s = 0; d && s < 3; s++) { d->time[d->n_events++] = 1; end_sequence(d, s, s); }
    CHECK(d && aaren_hawkes_fit(d, &h, err, sizeof err) != 0 && strstr(err, "training"), "fit without gaps: %s", err);
    aaren_events_free(d);
}

/* n_seq sequences of 24 events whose next mark repeats the current one with probability 0.9
 * among C marks (otherwise a uniform new one: each sequence its own few marks, most marks rare
 * in training); Poisson times of rate 1; splits 60/20/20 in order. */
static aaren_events *repeat_data(int C, int n_seq, uint64_t g) {
    aaren_events *d = new_events(n_seq, (long)n_seq * 24, C);
    if (!d) return NULL;
    for (int s = 0; s < n_seq; s++) {
        double t = 0;
        int k = (int)(aaren_rng_uniform(&g) * C) % C;
        for (int i = 0; i < 24; i++) {
            if (i > 0 && aaren_rng_uniform(&g) > 0.9) k = (int)(aaren_rng_uniform(&g) * C) % C;
            d->mark[d->n_events] = k;
            d->time[d->n_events++] = t;
            t += -log(1 - aaren_rng_uniform(&g));
        }
        end_sequence(d, s, s < n_seq * 6 / 10 ? AAREN_EV_TRAIN : s < n_seq * 8 / 10 ? AAREN_EV_VAL : AAREN_EV_TEST);
    }
    return d;
}

/* The tied mark head: on repeat_data with 400 marks it learns the repetition within a few
 * epochs, far above the frequency baseline; its checkpoint loads back to the same predictions. */
static void test_tied_head(void) {
    const int n_seq = 300;
    aaren_events *d = repeat_data(400, n_seq, 31);
    CHECK(d != NULL, "tied data");
    if (!d) return;
    aaren_tpp_options o;
    aaren_tpp_options_init(&o);
    o.enc.d_model = 32; o.enc.n_heads = 2; o.enc.n_layers = 1; o.enc.d_ff = 64;
    o.K = 2;
    o.epochs = 8;
    o.patience = 8;
    o.lr = 3e-3f;
    o.tie_marks = 1;
    aaren_tpp *m = aaren_tpp_new(d, &o, err, sizeof err);
    CHECK(m != NULL, "tied model: %s", err);
    aaren_tpp_result r;
    if (m && aaren_tpp_run(m, d, &r, NULL, err, sizeof err) == 0) {
        const double rep = aaren_tpp_repeat_acc(d, AAREN_EV_TEST);
        printf("tied head: mark accuracy %.3f (repeating: %.3f, frequencies: %.3f), mark NLL %.3f (frequencies %.3f)\n",
               r.test.acc, rep, r.poisson_test.acc, r.test.nll_mark, r.poisson_test.nll_mark);
        CHECK(r.test.acc > 0.5 && r.test.acc > r.poisson_test.acc + 0.4 && r.test.nll_mark < r.poisson_test.nll_mark - 2,
              "tied head: mark accuracy %.3f (repeating: %.3f, frequencies: %.3f), mark NLL %.3f (frequencies %.3f)", r.test.acc,
              rep, r.poisson_test.acc, r.test.nll_mark, r.poisson_test.nll_mark);
        /* the checkpoint: the same predictions after loading */
        const char *path = check_tmp_path("tied.safetensors");
        aaren_tpp *l = NULL;
        if (path && aaren_tpp_save(m, path, err, sizeof err) == 0 && (l = aaren_tpp_load(path, err, sizeof err))) {
            aaren_tpp_prediction p1[24], p2[24];
            static float q1[24 * 400], q2[24 * 400];
            int s = n_seq - 1;
            const int rc = aaren_tpp_predict_sequence(m, d, s, p1, q1, err, sizeof err) ||
                           aaren_tpp_predict_sequence(l, d, s, p2, q2, err, sizeof err);
            CHECK(!rc && memcmp(q1, q2, sizeof q1) == 0 && p1[23].mark == p2[23].mark && p1[23].median == p2[23].median,
                  "tied head: predictions after loading differ (%s)", err);
        } else {
            CHECK(0, "tied head: save / load: %s", err);
        }
        aaren_tpp_free(l);
        if (path) remove(path);
        check_tmp_cleanup();
    } else {
        CHECK(0, "tied run: %s", err);
    }
    aaren_tpp_free(m);
    aaren_events_free(d);
}

static void small_options(aaren_tpp_options *o) {
    aaren_tpp_options_init(o);
    o->enc.d_model = 16; o->enc.n_heads = 2; o->enc.n_layers = 1; o->enc.d_ff = 32;
    o->K = 2;
    o->batch = 8;
    o->dropout = 0;
}

/* Central differences of the training loss (NLL per predicted event) against the gradient,
 * at the parameters of index idx[0..n) of the whole block; returns the largest excess over
 * the tolerance (<= 0: all within). */
static double fd_check(aaren_tpp *m, const aaren_events *d, const int *seqs, int B, const size_t *idx, int n,
                       const char *label) {
    aaren_model *enc = aaren_tpp_encoder(m);
    float *p = aaren_model_params(enc), *g = aaren_model_grads(enc);
    double loss, worst = -1;
    if (aaren_tpp_loss_grads(m, d, seqs, B, &loss, err, sizeof err)) { CHECK(0, "%s: %s", label, err); return 1; }
    float *an = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++) an[i] = g[idx[i]];
    for (int i = 0; i < n; i++) {
        const float keep = p[idx[i]], h = 1e-2f * fmaxf(1.0f, fabsf(keep));
        double lp, lm;
        p[idx[i]] = keep + h;
        const int rc1 = aaren_tpp_loss_grads(m, d, seqs, B, &lp, err, sizeof err);
        p[idx[i]] = keep - h;
        const int rc2 = aaren_tpp_loss_grads(m, d, seqs, B, &lm, err, sizeof err);
        p[idx[i]] = keep;
        const double fd = (lp - lm) / ((double)(keep + h) - (double)(keep - h));   /* the step as stored */
        const double excess = fabs(fd - an[i]) - (3e-3 + 3e-2 * fabs(an[i]));
        if (rc1 || rc2 || excess > 0)
            CHECK(0, "%s: parameter %zu: gradient %.6g, central difference %.6g", label, idx[i], (double)an[i], fd);
        if (excess > worst) worst = excess;
    }
    free(an);
    return worst;
}

/* Saves kept to file and loads it back; checks that the loaded model's predictions of
 * sequence s are kept's, bit for bit, and that streaming the sequence's events through it
 * gives the same marks and probabilities. p [SEQ_MAX] gets the loaded model's predictions
 * (zeros if none). Returns the checkpoint's path for the caller to remove (the file may be
 * missing if saving failed), NULL when the sequence is too long. */
enum { SEQ_MAX = 24, MARK_MAX = 64 };   /* the longest test sequence and most marks the helper takes */
static const char *check_saved_and_streamed(aaren_tpp *kept, const aaren_events *d, int s, int C, const char *what,
                                            const char *file, aaren_tpp_prediction *p) {
    const long n = d->off[s + 1] - d->off[s];
    aaren_tpp_prediction p1[SEQ_MAX], p3;
    static float q1[SEQ_MAX * MARK_MAX], q2[SEQ_MAX * MARK_MAX];
    memset(p, 0, sizeof *p * SEQ_MAX);
    if (n > SEQ_MAX || C > MARK_MAX) { CHECK(0, "%s: a test sequence of %ld events over %d marks is too large", what, n, C); return NULL; }
    const char *path = check_tmp_path(file);
    aaren_tpp *l = path && aaren_tpp_save(kept, path, err, sizeof err) == 0 ? aaren_tpp_load(path, err, sizeof err) : NULL;
    CHECK(l != NULL, "%s: save / load: %s", what, err);
    if (!l) return path;
    int rc = aaren_tpp_predict_sequence(kept, d, s, p1, q1, err, sizeof err) ||
             aaren_tpp_predict_sequence(l, d, s, p, q2, err, sizeof err);
    for (long i = 0; !rc && i < n; i++) rc = p1[i].mark != p[i].mark;
    CHECK(!rc && memcmp(q1, q2, sizeof(float) * (size_t)n * C) == 0, "%s: predictions after loading differ (%s)", what, err);
    aaren_tpp_stream *st = aaren_tpp_stream_new(l, 64, err, sizeof err);
    double worst = 0;
    int same = 1;
    for (long i = 0; st && i < n; i++) {
        if (aaren_tpp_stream_event(st, d->time[d->off[s] + i], d->mark[d->off[s] + i], &p3, err, sizeof err)) { same = 0; break; }
        same &= p3.mark == p[i].mark;
        worst = fmax(worst, fabs(p3.p_mark - p[i].p_mark));
    }
    CHECK(st && same && worst < 1e-4, "%s: streamed predictions differ (largest p_mark difference %.3g; %s)", what, worst, err);
    aaren_tpp_stream_free(st);
    aaren_tpp_free(l);
    return path;
}

static void test_copy_logit(void) {
    const int C = 60, n_seq = 120;
    aaren_events *d = repeat_data(C, n_seq, 77);
    CHECK(d != NULL, "copy data");
    if (!d) return;
    aaren_tpp_options o;
    small_options(&o);
    /* the start: the logit that gives the current mark TRAIN's repeat rate against C - 1 equal others */
    for (int tie = 0; tie <= 1; tie++) {
        o.copy_mark = 1;
        o.tie_marks = tie;
        aaren_tpp *m = aaren_tpp_new(d, &o, err, sizeof err);
        CHECK(m != NULL, "copy model (tied %d): %s", tie, err);
        if (!m) continue;
        aaren_model *enc = aaren_tpp_encoder(m);
        const size_t n_all = aaren_model_n_trainable(enc), n_enc = n_all - aaren_model_n_extra(enc);
        const double r = aaren_tpp_repeat_acc(d, AAREN_EV_TRAIN), g0 = log(r * (C - 1) / (1 - r));
        const float g = aaren_model_params(enc)[n_all - 1];
        CHECK(r > 0.8 && fabs(g - g0) < 1e-5 * fabs(g0), "copy logit starts at %.7g, expected %.7g (repeat rate %.4f)", g, g0, r);
        /* gradients: the copy logit (moved off its start), a mark logit's weight and bias, an
         * embedding entry, v, and encoder weights */
        aaren_model_params(enc)[n_all - 1] = (float)(g0 - 1.5);
        const int D = o.enc.d_model, P = 3 * o.K + C;
        const size_t E0 = n_enc, v0 = E0 + (size_t)C * D, W0 = v0 + D, b0 = W0 + (size_t)P * D;
        const size_t idx[] = {n_all - 1, W0 + (size_t)(3 * o.K + 5) * D + 3, b0 + 3 * o.K + 7, b0 + 1, E0 + 7 * D + 2, v0 + 4,
                              3, n_enc / 2, n_enc - 5, tie ? b0 + P + 17 : W0 + 11};
        int seqs[8];
        for (int i = 0; i < 8; i++) seqs[i] = i * 9;
        char label[64];
        snprintf(label, sizeof label, "copy logit gradients (tied %d)", tie);
        const double worst = fd_check(m, d, seqs, 8, idx, (int)(sizeof idx / sizeof idx[0]), label);
        printf("%s: largest excess over the tolerance %.3g\n", label, worst);
        aaren_tpp_free(m);
    }
    /* learning: two epochs; with the copy logit the repetition is there (accuracy near the
     * repeat baseline), without it the plain head is still far from it */
    double acc[2] = {0, 0}, nllm[2] = {0, 0};
    aaren_tpp *kept = NULL;
    for (int copy = 0; copy <= 1; copy++) {
        small_options(&o);
        o.copy_mark = copy;
        o.epochs = 2;
        o.patience = 2;
        o.lr = 3e-3f;
        aaren_tpp *m = aaren_tpp_new(d, &o, err, sizeof err);
        aaren_tpp_result r;
        if (!m || aaren_tpp_run(m, d, &r, NULL, err, sizeof err)) { CHECK(0, "copy run %d: %s", copy, err); aaren_tpp_free(m); continue; }
        acc[copy] = r.test.acc;
        nllm[copy] = r.test.nll_mark;
        if (copy) kept = m; else aaren_tpp_free(m);
    }
    const double rep = aaren_tpp_repeat_acc(d, AAREN_EV_TEST);
    printf("copy logit after 2 epochs: mark accuracy %.3f (without: %.3f, repeating: %.3f), mark NLL %.3f (without: %.3f)\n",
           acc[1], acc[0], rep, nllm[1], nllm[0]);
    CHECK(acc[1] > rep - 0.03 && acc[1] > acc[0] + 0.2 && nllm[1] < nllm[0] - 0.5,
          "copy logit after 2 epochs: accuracy %.3f (without %.3f, repeating %.3f), mark NLL %.3f (without %.3f)", acc[1], acc[0],
          rep, nllm[1], nllm[0]);
    /* the same predictions: parallel, streamed, and after a save and load */
    if (kept) {
        const int s = n_seq - 1;
        const long n = d->off[s + 1] - d->off[s];
        aaren_tpp_prediction p[SEQ_MAX];
        const char *path = check_saved_and_streamed(kept, d, s, C, "copy logit", "copy.safetensors", p);
        /* the model copies: the most likely next mark is the current one almost everywhere */
        int copied = 0;
        for (long i = 0; i < n && i < SEQ_MAX; i++) copied += p[i].mark == d->mark[d->off[s] + i];
        CHECK(copied >= n - 2, "copy logit: the current mark is the prediction at %d of %ld events", copied, n);
        if (path) remove(path);
        check_tmp_cleanup();
        aaren_tpp_free(kept);
    }
    aaren_events_free(d);
    /* unmarked data: refused with a message */
    aaren_events *u = poisson_data(20, 1.0, 10, 0, 5);
    small_options(&o);
    o.copy_mark = 1;
    aaren_tpp *m = u ? aaren_tpp_new(u, &o, err, sizeof err) : NULL;
    CHECK(u && !m && strstr(err, "copy logit needs marked data"), "copy logit on unmarked data: %s", err);
    aaren_tpp_free(m);
    aaren_events_free(u);
}

/* Sequences that go back and forth between two marks (a b a b ..., a new pair now and then):
 * the next mark is almost never the current one but almost always the one before it. */
static aaren_events *alternating_data(int C, int n_seq, uint64_t g) {
    aaren_events *d = new_events(n_seq, (long)n_seq * 24, C);
    if (!d) return NULL;
    for (int s = 0; s < n_seq; s++) {
        double t = 0;
        int a = (int)(aaren_rng_uniform(&g) * C) % C, b = (a + 1 + (int)(aaren_rng_uniform(&g) * (C - 1))) % C;
        for (int i = 0; i < 24; i++) {
            if (i > 1 && aaren_rng_uniform(&g) > 0.95) b = (a + 1 + (int)(aaren_rng_uniform(&g) * (C - 1))) % C;
            d->mark[d->n_events] = i % 2 ? b : a;
            d->time[d->n_events++] = t;
            t += -log(1 - aaren_rng_uniform(&g));
        }
        end_sequence(d, s, s < n_seq * 6 / 10 ? AAREN_EV_TRAIN : s < n_seq * 8 / 10 ? AAREN_EV_VAL : AAREN_EV_TEST);
    }
    return d;
}

/* Copy logits over several lags (copy_mark = L > 1): their start values, their gradients
 * against central differences, learning a pattern that one lag cannot see, the same
 * predictions streamed, in parallel and after a save and load, and a bad count refused. */
static void test_copy_lags(void) {
    const int C = 50, n_seq = 120, L = 3;
    aaren_events *d = alternating_data(C, n_seq, 91);
    CHECK(d != NULL, "alternating data");
    if (!d) return;
    aaren_tpp_options o;
    small_options(&o);
    o.copy_mark = L;
    aaren_tpp *m = aaren_tpp_new(d, &o, err, sizeof err);
    CHECK(m != NULL, "copy lags model: %s", err);
    if (m) {
        aaren_model *enc = aaren_tpp_encoder(m);
        const size_t n_all = aaren_model_n_trainable(enc), n_enc = n_all - aaren_model_n_extra(enc);
        float *g = aaren_model_params(enc) + n_all - L;
        /* the start: per lag, TRAIN's rate of a next mark equal to that lag's and to no nearer one */
        for (int j = 0; j < L; j++) {
            long n = 0, hit = 0;
            for (int q = 0; q < d->n_seq; q++) {
                if (d->split[q] != AAREN_EV_TRAIN) continue;
                for (long e = d->off[q] + 1 + j; e < d->off[q + 1]; e++) {
                    int nearer = 0;
                    for (int i = 0; i < j; i++) nearer |= d->mark[e - 1 - i] == d->mark[e];
                    hit += !nearer && d->mark[e - 1 - j] == d->mark[e];
                    n++;
                }
            }
            const double r = fmin(fmax((double)hit / n, 1e-3), 1 - 1e-3), g0 = log(r * (C - 1) / (1 - r));
            CHECK(fabs(g[j] - g0) < 1e-5 * fmax(1.0, fabs(g0)), "copy lag %d starts at %.7g, expected %.7g (rate %.4f)", j + 1,
                  g[j], g0, r);
        }
        CHECK(g[1] > g[0] + 5, "lag 2's start %.3g is not far above lag 1's %.3g on alternating data", g[1], g[0]);
        /* a mark gets the logit of its most recent lag only: at an event of a b a b ..., the current
         * mark b is at lags 1 and 3 and a at lag 2, so against the same model with every g at 0 the
         * log odds of b over a move by g_1 - g_2, not g_1 + g_3 - g_2 */
        {
            const int sq = n_seq - 1;
            const long n = d->off[sq + 1] - d->off[sq];
            static float q0[24 * 50], q1[24 * 50];
            aaren_tpp_prediction pr[24];
            const float keep[3] = {g[0], g[1], g[2]};
            g[0] = g[1] = g[2] = 0;
            err[0] = 0;
            const int rc0 = aaren_tpp_predict_sequence(m, d, sq, pr, q0, err, sizeof err);
            g[0] = 1.0f; g[1] = 0.5f; g[2] = 2.0f;
            const int rc1 = aaren_tpp_predict_sequence(m, d, sq, pr, q1, err, sizeof err);
            memcpy(g, keep, sizeof keep);
            long i = 2;   /* an event read whose mark b has a before it and b before that */
            while (i < n && !(d->mark[d->off[sq] + i] == d->mark[d->off[sq] + i - 2] &&
                              d->mark[d->off[sq] + i] != d->mark[d->off[sq] + i - 1]))
                i++;
            const long e = d->off[sq] + (i < n ? i : 2);
            const int b = d->mark[e], a = d->mark[e - 1];
            const long at = e - d->off[sq];
            const double moved = log((double)q1[at * C + b] / q1[at * C + a]) - log((double)q0[at * C + b] / q0[at * C + a]);
            CHECK(!rc0 && !rc1 && i < n && fabs(moved - 0.5) < 1e-4,
                  "log odds of the current mark over the one before moved by %.6f, expected g_1 - g_2 = 0.5 (%s)", moved, err);
        }
        /* gradients: every lag's logit (moved off its start), a mark logit's weight and bias, an
         * embedding entry and encoder weights */
        for (int j = 0; j < L; j++) g[j] += (float)(j == 1 ? -4.0 : 1.5);
        const int D = o.enc.d_model, P = 3 * o.K + C;
        const size_t W0 = n_enc + (size_t)C * D + D, b0 = W0 + (size_t)P * D;
        const size_t idx[] = {n_all - 3, n_all - 2, n_all - 1, W0 + (size_t)(3 * o.K + 4) * D + 1, b0 + 3 * o.K + 9,
                              n_enc + 5 * D + 3, 2, n_enc / 2};
        int seqs[8];
        for (int i = 0; i < 8; i++) seqs[i] = i * 7;
        const double worst = fd_check(m, d, seqs, 8, idx, (int)(sizeof idx / sizeof idx[0]), "copy lags gradients");
        printf("copy lags gradients: largest excess over the tolerance %.3g\n", worst);
        aaren_tpp_free(m);
    }
    /* learning: 2 epochs with one lag or three; only the second sees the mark two back */
    double acc[2] = {0, 0};
    aaren_tpp *kept = NULL;
    for (int k = 0; k < 2; k++) {
        small_options(&o);
        o.copy_mark = k ? L : 1;
        o.epochs = 2;
        o.patience = 2;
        o.lr = 3e-3f;
        aaren_tpp *q = aaren_tpp_new(d, &o, err, sizeof err);
        aaren_tpp_result r;
        if (!q || aaren_tpp_run(q, d, &r, NULL, err, sizeof err)) { CHECK(0, "copy lags run %d: %s", k, err); aaren_tpp_free(q); continue; }
        acc[k] = r.test.acc;
        if (k) kept = q; else aaren_tpp_free(q);
    }
    printf("copy lags after 2 epochs: mark accuracy %.3f with 3 lags, %.3f with 1\n", acc[1], acc[0]);
    CHECK(acc[1] > 0.8 && acc[1] > acc[0] + 0.3, "copy lags after 2 epochs: accuracy %.3f with 3 lags, %.3f with 1", acc[1],
          acc[0]);
    if (kept) {
        const int sq = n_seq - 1;
        const long n = d->off[sq + 1] - d->off[sq];
        aaren_tpp_prediction p[SEQ_MAX];
        const char *path = check_saved_and_streamed(kept, d, sq, C, "copy lags", "lags.safetensors", p);
        int two_back = 0;
        for (long i = 1; i < n && i < SEQ_MAX; i++) two_back += p[i].mark == d->mark[d->off[sq] + i - 1];
        CHECK(two_back >= n - 3, "copy lags: the mark before the current one is the prediction at %d of %ld events", two_back, n - 1);
        /* a checkpoint whose count of lags is not one: refused with a message naming the entry */
        aaren_st stt;
        aaren_st_init(&stt);
        int wrote = 0;
        if (path && aaren_st_read(path, &stt, err, sizeof err) == 0) {
            aaren_st_set_meta(&stt, "tpp.copy_mark", "65");
            wrote = aaren_st_write(path, &stt, err, sizeof err) == 0;
        }
        aaren_st_free(&stt);
        aaren_tpp *bad = wrote ? aaren_tpp_load(path, err, sizeof err) : NULL;
        CHECK(wrote && !bad && strstr(err, "tpp.copy_mark") && strstr(err, "lags.safetensors"),
              "a checkpoint with 65 copy lags: %s", err);
        aaren_tpp_free(bad);
        if (path) remove(path);
        check_tmp_cleanup();
        aaren_tpp_free(kept);
    }
    /* a count out of range: refused */
    small_options(&o);
    o.copy_mark = AAREN_TPP_MAX_COPY_LAGS + 1;
    m = aaren_tpp_new(d, &o, err, sizeof err);
    CHECK(!m && strstr(err, "copy lags"), "copy lags %d: %s", o.copy_mark, err);
    aaren_tpp_free(m);
    aaren_events_free(d);
}

int main(void) {
    test_poisson_closed_form();
    test_model_ll();
    test_hawkes();
    test_tied_head();
    test_copy_logit();
    test_copy_lags();
    return check_done("test_tpp_ll");
}
