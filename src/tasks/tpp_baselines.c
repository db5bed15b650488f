/* The event model's classical baselines beside the Poisson process of tpp.c: the Hawkes
 * process with an exponential kernel and the marks' training frequencies (see tpp.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/common.h"
#include "tasks/tpp.h"

/* The end of sequence s's observed window: the data's window end, else its last event. */
static double window_end(const aaren_events *d, int s) {
    const double last = d->time[d->off[s + 1] - 1];
    return d->window_end > last ? d->window_end : last;
}

void aaren_tpp_mark_baseline(const aaren_events *d, int split, double *nll, long *right) {
    *nll = 0;
    *right = 0;
    if (d->n_marks <= 0 || !d->mark) return;
    long *freq = calloc((size_t)d->n_marks, sizeof(long)), n = 0;
    if (!freq) { *nll = NAN; return; }
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != AAREN_EV_TRAIN) continue;
        for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) { freq[d->mark[e]]++; n++; }
    }
    int top = 0;
    for (int c = 1; c < d->n_marks; c++) if (freq[c] > freq[top]) top = c;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != split) continue;
        for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) {
            /* add-one smoothing, so that marks unseen in training stay finite */
            *nll -= log((freq[d->mark[e]] + 1.0) / (n + (double)d->n_marks));
            *right += d->mark[e] == top;
        }
    }
    free(freq);
}

void aaren_tpp_baseline_metrics(const aaren_events *d, int split, long cnt, double nt, double surv, double se,
                                double se_med, aaren_tpp_metrics *out) {
    double nm;
    long right;
    aaren_tpp_mark_baseline(d, split, &nm, &right);
    memset(out, 0, sizeof *out);
    out->n_pred = cnt;
    const double n = cnt ? (double)cnt : NAN;
    out->nll_time = nt / n;
    out->nll_mark = nm / n;
    out->nll = out->nll_time + out->nll_mark;
    out->ll_time = (surv - nt) / n;
    out->ll = (surv - nt - nm) / n;
    out->rmse = sqrt(se / n);
    out->rmse_median = sqrt(se_med / n);
    out->acc = d->n_marks > 0 ? right / n : NAN;
}


double aaren_tpp_repeat_acc(const aaren_events *d, int split) {
    if (d->n_marks <= 0 || !d->mark) return NAN;
    long n = 0, right = 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != split) continue;
        for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) { right += d->mark[e] == d->mark[e - 1]; n++; }
    }
    return n ? (double)right / n : NAN;
}

/* ---- the Hawkes process ------------------------------------------------------------------
 * After event i of a sequence the excitation is B_i = sum_{j <= i} exp(-beta (t - t_i))
 * evaluated at t = t_i, i.e. B_0 = 1, B_i = exp(-beta tau_i) B_{i-1} + 1. For the gap tau to
 * the next event: intensity mu + alpha B_i exp(-beta tau), compensator
 *   Lambda(tau) = mu tau + (alpha B_i / beta) (1 - exp(-beta tau)). */

static double compensator(const aaren_hawkes *h, double B, double tau) {
    return h->mu * tau + h->alpha * B / h->beta * -expm1(-h->beta * tau);
}

double aaren_hawkes_loglik(const aaren_events *d, int split, const aaren_hawkes *h, long *n_pred) {
    double ll = 0;
    long n = 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != split || d->off[s + 1] == d->off[s]) continue;
        double B = 1;
        for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) {
            const double tau = d->time[e] - d->time[e - 1], k = exp(-h->beta * tau);
            ll += log(h->mu + h->alpha * B * k) - compensator(h, B, tau);
            B = B * k + 1;
            n++;
        }
        ll -= compensator(h, B, window_end(d, s) - d->time[d->off[s + 1] - 1]);
    }
    if (n_pred) *n_pred = n;
    return ll;
}

/* The TRAIN statistics for one beta: R [n] the excitation sum_{j < i} exp(-beta (t_i - t_j))
 * at each predicted event, *T the total window length, *G = sum over all events of
 * (1 - exp(-beta (end - t_j))) / beta; then loglik(mu, alpha) = sum log(mu + alpha R_i)
 * - mu T - alpha G, concave in (mu, alpha). */
typedef struct {
    double *R;
    long n;
    double T, G;
} hawkes_stats;

static void stats_for(const aaren_events *d, double beta, hawkes_stats *st) {
    long n = 0;
    st->T = st->G = 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != AAREN_EV_TRAIN || d->off[s + 1] == d->off[s]) continue;
        const double end = window_end(d, s);
        double A = 0;
        st->T += end - d->time[d->off[s]];
        for (long e = d->off[s]; e < d->off[s + 1]; e++) {
            if (e > d->off[s]) {
                A = (A + 1) * exp(-beta * (d->time[e] - d->time[e - 1]));
                st->R[n++] = A;
            }
            st->G += -expm1(-beta * (end - d->time[e])) / beta;
        }
    }
    st->n = n;
}

static double profile_ll(const hawkes_stats *st, double mu, double alpha) {
    double ll = -mu * st->T - alpha * st->G;
    for (long i = 0; i < st->n; i++) ll += log(mu + alpha * st->R[i]);
    return ll;
}

/* The maximum over mu > 0, alpha >= 0 for the stats' beta: *mu, *alpha updated in place
 * (their values on entry start the search); returns the log-likelihood. */
static double solve_mu_alpha(const hawkes_stats *st, double *mu, double *alpha) {
    const double n = (double)st->n;
    /* alpha = 0 is the optimum when the slope in alpha is <= 0 at the Poisson fit (concavity) */
    {
        const double m0 = n / st->T;
        double ga = -st->G;
        for (long i = 0; i < st->n; i++) ga += st->R[i] / m0;
        if (ga <= 0) { *mu = m0; *alpha = 0; return profile_ll(st, m0, 0); }
    }
    if (!(*alpha > 0)) *alpha = 0.5 * n / st->G;
    if (!(*mu > 0)) *mu = 0.5 * n / st->T;
    double ll = profile_ll(st, *mu, *alpha);
    for (int it = 0; it < 500; it++) {
        double g0 = -st->T, g1 = -st->G, h00 = 0, h01 = 0, h11 = 0, e0 = 0, e1 = 0;
        for (long i = 0; i < st->n; i++) {
            const double l = *mu + *alpha * st->R[i], il = 1 / l, r = st->R[i];
            g0 += il; g1 += r * il;
            h00 += il * il; h01 += r * il * il; h11 += r * r * il * il;
            e0 += *mu * il; e1 += *alpha * r * il;
        }
        /* Newton direction H^-1 g with H = [[h00, h01], [h01, h11]] (minus the Hessian) */
        const double det = h00 * h11 - h01 * h01;
        double nm = *mu, na = *alpha, nll = -INFINITY;
        if (det > 0) {
            const double d0 = (h11 * g0 - h01 * g1) / det, d1 = (h00 * g1 - h01 * g0) / det;
            for (double step = 1; step > 1e-12; step *= 0.5) {
                const double tm = *mu + step * d0, ta = *alpha + step * d1;
                if (!(tm > 0) || ta < 0) continue;
                const double tl = profile_ll(st, tm, ta);
                if (tl >= ll) { nm = tm; na = ta; nll = tl; break; }
            }
        }
        if (nll == -INFINITY) {   /* EM: never decreases the likelihood and stays feasible */
            nm = e0 / st->T;
            na = e1 / st->G;
            nll = profile_ll(st, nm, na);
        }
        const double gain = nll - ll;
        *mu = nm; *alpha = na;
        if (nll >= ll) ll = nll;
        if (gain <= 1e-13 * (1 + fabs(ll)) && fabs(g0) * *mu + fabs(g1) * *alpha < 1e-8 * n) break;
        if (gain <= 0 && it > 50) break;
    }
    return ll;
}

int aaren_hawkes_fit(const aaren_events *d, aaren_hawkes *h, char *err, size_t errlen) {
    memset(h, 0, sizeof *h);
    long n = 0;
    double span = 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != AAREN_EV_TRAIN || d->off[s + 1] == d->off[s]) continue;
        n += d->off[s + 1] - d->off[s] - 1;
        span += d->time[d->off[s + 1] - 1] - d->time[d->off[s]];
    }
    if (n < 1 || !(span > 0)) return aaren_errf(err, errlen, "hawkes: the training split has no positive inter-event times");
    hawkes_stats st;
    if (!(st.R = malloc(sizeof(double) * (size_t)n))) return aaren_errf(err, errlen, "hawkes: out of memory for %ld events", n);
    /* beta over 1e-3 .. 1e3 times the mean rate: a log grid of 31 points, then golden-section
     * search between the neighbours of the best point (the profile may have more than one mode:
     * the grid picks the basin) */
    const double rate = (double)n / span, lo = log(1e-3 * rate), hi = log(1e3 * rate);
    enum { GRID = 31 };
    double best = -INFINITY, mu = 0, alpha = 0, gm[GRID], ga[GRID];
    int ib = 0;
    for (int g = 0; g < GRID; g++) {
        stats_for(d, exp(lo + (hi - lo) * g / (GRID - 1)), &st);
        double m = 0, a = 0;
        const double ll = solve_mu_alpha(&st, &m, &a);
        gm[g] = m; ga[g] = a;
        if (ll > best) { best = ll; ib = g; }
    }
    double a = lo + (hi - lo) * (ib > 0 ? ib - 1 : 0) / (GRID - 1), b = lo + (hi - lo) * (ib < GRID - 1 ? ib + 1 : ib) / (GRID - 1);
    const double phi = 0.6180339887498949;
    double x1 = b - phi * (b - a), x2 = a + phi * (b - a), m1 = gm[ib], a1 = ga[ib], m2 = gm[ib], a2 = ga[ib];
    stats_for(d, exp(x1), &st);
    double f1 = solve_mu_alpha(&st, &m1, &a1);
    stats_for(d, exp(x2), &st);
    double f2 = solve_mu_alpha(&st, &m2, &a2);
    for (int it = 0; it < 40 && b - a > 1e-7; it++) {
        if (f1 >= f2) {
            b = x2; x2 = x1; f2 = f1; m2 = m1; a2 = a1;
            x1 = b - phi * (b - a);
            stats_for(d, exp(x1), &st);
            f1 = solve_mu_alpha(&st, &m1, &a1);
        } else {
            a = x1; x1 = x2; f1 = f2; m1 = m2; a1 = a2;
            x2 = a + phi * (b - a);
            stats_for(d, exp(x2), &st);
            f2 = solve_mu_alpha(&st, &m2, &a2);
        }
    }
    if (f1 >= f2 && f1 > best) { best = f1; mu = m1; alpha = a1; h->beta = exp(x1); }
    else if (f2 > best) { best = f2; mu = m2; alpha = a2; h->beta = exp(x2); }
    else { mu = gm[ib]; alpha = ga[ib]; h->beta = exp(lo + (hi - lo) * ib / (GRID - 1)); }
    free(st.R);
    h->mu = mu;
    h->alpha = alpha;
    h->loglik = aaren_hawkes_loglik(d, AAREN_EV_TRAIN, h, &h->n_events);
    return 0;
}

/* E[tau] = integral of exp(-Lambda(tau)) over tau > 0 in closed form: with c = alpha B / beta
 * and k = beta / mu, exp(-Lambda) = exp(-c) exp(-mu tau) sum_n c^n exp(-n beta tau) / n!, so
 * E[tau] = (exp(-c) / mu) sum_n c^n / (n! (1 + n k)) (a Poisson(c)-weighted sum, summed in
 * logs until its terms are negligible). */
static double hawkes_mean(const aaren_hawkes *h, double B) {
    const double c = h->alpha * B / h->beta, k = h->beta / h->mu;
    if (!(c > 0)) return 1 / h->mu;
    const long top = (long)(c + 12 * sqrt(c) + 40);
    double sum = 0;
    for (long j = 0; j <= top; j++) sum += exp(-c + j * log(c) - lgamma(j + 1.0) - log1p(j * k));
    return sum / h->mu;
}

/* The median gap: Lambda(tau) = log 2, by bisection on [0, log 2 / mu] (Lambda >= mu tau). */
static double hawkes_median(const aaren_hawkes *h, double B) {
    double lo = 0, hi = log(2.0) / h->mu;
    for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; it++) {
        const double mid = 0.5 * (lo + hi);
        if (compensator(h, B, mid) < log(2.0)) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

void aaren_tpp_hawkes(const aaren_events *d, const aaren_hawkes *h, int split, aaren_tpp_metrics *out) {
    double nt = 0, se = 0, se_med = 0, surv = 0;
    long cnt = 0;
    for (int s = 0; s < d->n_seq; s++) {
        if (d->split[s] != split || d->off[s + 1] == d->off[s]) continue;
        double B = 1;
        for (long e = d->off[s] + 1; e < d->off[s + 1]; e++) {
            const double tau = d->time[e] - d->time[e - 1], k = exp(-h->beta * tau);
            const double mean = hawkes_mean(h, B), med = hawkes_median(h, B);
            nt += -log(h->mu + h->alpha * B * k) + compensator(h, B, tau);
            se += (mean - tau) * (mean - tau);
            se_med += (med - tau) * (med - tau);
            B = B * k + 1;
            cnt++;
        }
        surv -= compensator(h, B, window_end(d, s) - d->time[d->off[s + 1] - 1]);
    }
    aaren_tpp_baseline_metrics(d, split, cnt, nt, surv, se, se_med, out);
}
