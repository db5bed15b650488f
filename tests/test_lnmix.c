/* The event decoders: the log-normal mixture's density integrates to 1 and its CDF is the
 * integral of the density; sampling matches the mean in closed form; quantiles invert the
 * CDF; log S(tau) is minus the integrated hazard (in double); the NLL's gradients pass
 * central finite differences in double (clamped log-scales have zero gradient); float32 agrees with float64; the mark categorical likewise. */
#include <math.h>
#include <stdlib.h>
#include "check.h"
#include "layers/layers.h"
#include "base/rng.h"

static void random_z(double *z, int K, uint64_t *r, double spread) {
    for (int k = 0; k < K; k++) {
        z[k] = aaren_rng_normal(r);
        z[K + k] = spread * aaren_rng_normal(r);
        z[2 * K + k] = -1.2 + 0.6 * aaren_rng_normal(r);
    }
}

int main(void) {
    uint64_t r = 11;
    const int Ks[] = {1, 3, 8};
    for (int ik = 0; ik < 3; ik++) {
        const int K = Ks[ik];
        double z[24], dz[24];
        const double loc = 0.3, scale = 1.7;
        for (int trial = 0; trial < 4; trial++) {
            random_z(z, K, &r, 1.5);
            /* integral of p(tau) d tau = integral of p(tau) tau d(log tau), trapezoid over log tau */
            double integral = 0, cdf_mid = 0;
            const double lo = loc - 40 * scale, hi = loc + 40 * scale, h = 1e-3;
            const double t_mid = exp(loc + 0.25 * scale);
            for (double u = lo; u <= hi; u += h) {
                const double tau = exp(u), f = aaren_lnmix_pdf_f64(z, K, tau, loc, scale) * tau;
                integral += f * h;
                if (u + h <= log(t_mid)) cdf_mid += f * h;
            }
            CHECK(fabs(integral - 1) < 1e-6, "K=%d: density integrates to %.9f, not 1", K, integral);
            const double cdf = aaren_lnmix_cdf_f64(z, K, t_mid, loc, scale);
            CHECK(fabs(cdf - cdf_mid) < 2e-3, "K=%d: CDF %.6f vs the integrated density %.6f", K, cdf, cdf_mid);
            for (double q = 0.1; q < 0.95; q += 0.2) {
                const double t = aaren_lnmix_quantile_f64(z, K, loc, scale, q);
                CHECK(fabs(aaren_lnmix_cdf_f64(z, K, t, loc, scale) - q) < 1e-6, "K=%d: quantile %.2f misses", K, q);
            }
            /* log S(tau) is minus the integral of the hazard p / S over (0, tau]: trapezoid over
             * log t in double from far below the mixture's mass; also log(1 - CDF) directly, the
             * float32 version, and a finite value far in the tail where 1 - CDF rounds to 0 */
            for (int j = 0; j < 3; j++) {
                const double tau_s = aaren_lnmix_quantile_f64(z, K, loc, scale, 0.1 + 0.4 * j), h2 = 2e-4;
                double cum = 0, prev = 0;
                for (double u = loc - 40 * scale; u <= log(tau_s) + 1e-12; u += h2) {
                    const double t = exp(u), S = 1 - aaren_lnmix_cdf_f64(z, K, t, loc, scale);
                    const double f = aaren_lnmix_pdf_f64(z, K, t, loc, scale) * t / S;
                    if (u > loc - 40 * scale) cum += 0.5 * (f + prev) * h2;
                    prev = f;
                }
                /* the grid ends within h2 of log tau_s: add the rest of the last step */
                const double u_end = loc - 40 * scale + h2 * floor((log(tau_s) + 1e-12 - (loc - 40 * scale)) / h2);
                cum += prev * (log(tau_s) - u_end);
                const double ls = aaren_lnmix_logsurv_f64(z, K, tau_s, loc, scale);
                const double direct = log(1 - aaren_lnmix_cdf_f64(z, K, tau_s, loc, scale));
                CHECK(fabs(ls + cum) < 1e-5 * (1 + cum), "K=%d: log S(%.4g) %.9f vs minus the integrated hazard %.9f", K,
                      tau_s, ls, -cum);
                CHECK(fabs(ls - direct) < 1e-9 * (1 + fabs(direct)), "K=%d: log S %.12f vs log(1 - CDF) %.12f", K, ls, direct);
                float zf[24];
                for (int i = 0; i < 3 * K; i++) zf[i] = (float)z[i];
                const double lsf = aaren_lnmix_logsurv(zf, K, tau_s, (float)loc, (float)scale);
                CHECK(fabs(lsf - ls) < 1e-4 * (1 + fabs(ls)), "K=%d: float32 log S %.7g vs %.7g", K, lsf, ls);
            }
            {
                const double far = exp(loc + scale * 80), farther = exp(loc + scale * 90);
                const double l1 = aaren_lnmix_logsurv_f64(z, K, far, loc, scale), l2 = aaren_lnmix_logsurv_f64(z, K, farther, loc, scale);
                CHECK(isfinite(l1) && isfinite(l2) && l2 < l1 && l1 < -30 && 1 - aaren_lnmix_cdf_f64(z, K, far, loc, scale) < 1e-15,
                      "K=%d: log S in the far tail %.6g, %.6g: expected finite, decreasing", K, l1, l2);
                CHECK(aaren_lnmix_logsurv_f64(z, K, 0, loc, scale) == 0, "K=%d: log S(0) is not 0", K);
            }
            /* gradients against central differences */
            const double tau = exp(loc + scale * aaren_rng_normal(&r));
            aaren_lnmix_nll_f64(z, K, tau, loc, scale, dz);
            double worst = 0;
            for (int i = 0; i < 3 * K; i++) {
                const double e = 1e-6, keep = z[i];
                z[i] = keep + e;
                const double fp = aaren_lnmix_nll_f64(z, K, tau, loc, scale, NULL);
                z[i] = keep - e;
                const double fm = aaren_lnmix_nll_f64(z, K, tau, loc, scale, NULL);
                z[i] = keep;
                worst = fmax(worst, fabs((fp - fm) / (2 * e) - dz[i]) / (1 + fabs(dz[i])));
            }
            CHECK(worst < 1e-7, "K=%d: NLL gradient vs finite differences: %.3g", K, worst);
            /* float32 against float64 */
            float zf[24], dzf[24];
            for (int i = 0; i < 3 * K; i++) zf[i] = (float)z[i];
            const double nd = aaren_lnmix_nll_f64(z, K, tau, loc, scale, dz);
            const float nf = aaren_lnmix_nll(zf, K, (float)tau, (float)loc, (float)scale, dzf);
            double gd = 0;
            for (int i = 0; i < 3 * K; i++) gd = fmax(gd, fabs(dzf[i] - dz[i]));
            CHECK(fabs(nf - nd) < 1e-4 * (1 + fabs(nd)) && gd < 1e-4, "K=%d: float32 NLL %.7g vs %.7g, gradients %.3g",
                  K, (double)nf, nd, gd);
        }
        /* sampling against the closed-form mean (moderate scales so the variance is finite and small) */
        random_z(z, K, &r, 0.5);
        for (int k = 0; k < K; k++) z[2 * K + k] = -1.5;
        const double mean = aaren_lnmix_mean_f64(z, K, 0.1, 0.8);
        double s = 0, ss = 0;
        const int n = 200000;
        uint64_t rs = 99 + K;
        for (int i = 0; i < n; i++) {
            const double t = aaren_lnmix_sample_f64(z, K, 0.1, 0.8, &rs);
            s += t; ss += t * t;
        }
        const double sm = s / n, se = sqrt((ss / n - sm * sm) / n);
        CHECK(fabs(sm - mean) < 4 * se, "K=%d: sample mean %.5f vs closed form %.5f (standard error %.5f)", K, sm, mean, se);
    }
    /* a clamped log-scale has zero gradient, and finite differences agree (flat there) */
    {
        double z[6] = {0.2, -0.1, 0.5, -0.4, 3.0, -9.0}, dz[6];
        aaren_lnmix_nll_f64(z, 2, 1.3, 0.0, 1.0, dz);
        CHECK(dz[4] == 0 && dz[5] == 0, "clamped log-scales: gradients %.3g %.3g, expected 0", dz[4], dz[5]);
    }
    /* mark categorical */
    {
        double z[5], dz[5];
        for (int k = 0; k < 5; k++) z[k] = 2 * aaren_rng_normal(&r);
        const double nll = aaren_softmax_nll_f64(z, 5, 3, dz);
        double se = 0, worst = 0;
        for (int k = 0; k < 5; k++) se += exp(z[k]);
        CHECK(fabs(nll - (log(se) - z[3])) < 1e-12, "softmax NLL %.12g vs log-sum-exp %.12g", nll, log(se) - z[3]);
        for (int i = 0; i < 5; i++) {
            const double e = 1e-6, keep = z[i];
            z[i] = keep + e;
            const double fp = aaren_softmax_nll_f64(z, 5, 3, NULL);
            z[i] = keep - e;
            const double fm = aaren_softmax_nll_f64(z, 5, 3, NULL);
            z[i] = keep;
            worst = fmax(worst, fabs((fp - fm) / (2 * e) - dz[i]));
        }
        CHECK(worst < 1e-8, "softmax NLL gradient vs finite differences: %.3g", worst);
    }
    return check_done("test_lnmix");
}
