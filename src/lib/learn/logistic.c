/* SPDX-License-Identifier: MIT */
/* logistic.c - L2-regularised logistic (binary) and softmax (multinomial) regression as
 * scikit-learn's LogisticRegression: minimises C * sum_i s_i logloss_i + 0.5 ||W||^2 (the
 * intercept is not penalised) by L-BFGS or Newton-CG with Hessian-vector products; `tol` is
 * sklearn's (max-norm gradient of the objective divided by C). Binary problems use one weight
 * vector for class 1, as sklearn does. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn/learner.h"
#include "learn/linalg.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct logistic {
    cn_learner base;
    size_t d, k;       /* inputs; classes */
    size_t k_out;      /* 1 for binary (sigmoid), k for softmax */
    double *coef;      /* k_out x d */
    double *intercept; /* k_out */
    bool int8;         /* coef saved as int8 with one scale per row (cn_logistic_quantize) */
    double *scales;    /* int8: k_out scales, kept so saving again writes the same bytes */
} logistic;

/* First u64 of an int8 payload (a plain payload starts with d, far smaller). */
#define LOGISTIC_Q8_MARK UINT64_C(0xC0DE51C800000008)

/* The problem: data, C and the per-sample probabilities at the current point. */
typedef struct problem {
    size_t n, d, k_out;
    const double *x, *y, *w;
    double c;
    bool fit_intercept;
    double *z;               /* n x k_out: logits, then probabilities */
    double *g;               /* n x k_out scratch */
    const cn_fit_data *data; /* its on_epoch hears of every solver iteration */
    double w_sum;            /* of the training rows' weights */
} problem;

/* Reports solver iteration `iter` (1-based) with the objective F (= f / C) per unit of row
 * weight, a mean penalised log-loss, as train_loss; nonzero stops the solver. */
static int report_iter(const problem *pr, int64_t iter, double F)
{
    if (!pr->data || !pr->data->on_epoch || iter > INT_MAX)
        return 0;
    cairn_epoch_info e = {.epoch = (int)iter,
                          .train_loss = pr->w_sum > 0 ? F / pr->w_sum : F,
                          .val_loss = NAN,
                          .train_metric = NAN,
                          .val_metric = NAN};
    return pr->data->on_epoch(pr->data->user, &e);
}

static double sigmoid(double z)
{
    return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

/* log(1 + exp(z)) without overflow. */
static double log1pexp(double z)
{
    return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* Logits z = X W^T + b into pr->z (n x k_out). theta: W (k_out x d) then b (k_out). */
static void logits(const problem *pr, const double *theta, double *z)
{
    size_t n = pr->n, d = pr->d, ko = pr->k_out;
    const double *b = theta + ko * d;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < ko; j++)
            z[i * ko + j] = b[j];
    cn_gemm(false, true, n, ko, d, 1.0, pr->x, d, theta, d, 1.0, z, ko);
}

/* Objective and gradient at theta; leaves probabilities in pr->z for hessvec(). */
static double objective(problem *pr, const double *theta, double *grad)
{
    size_t n = pr->n, d = pr->d, ko = pr->k_out;
    logits(pr, theta, pr->z);
    double loss = 0;
    for (size_t i = 0; i < n; i++) {
        double *zi = pr->z + i * ko, *gi = pr->g + i * ko;
        double s = pr->c * pr->w[i];
        size_t yi = (size_t)pr->y[i];
        if (ko == 1) {
            double yy = (double)yi;
            loss += s * (log1pexp(zi[0]) - yy * zi[0]);
            zi[0] = sigmoid(zi[0]);
            gi[0] = s * (zi[0] - yy);
        } else {
            double mx = zi[0], sum = 0;
            for (size_t j = 1; j < ko; j++)
                mx = zi[j] > mx ? zi[j] : mx;
            double zy = zi[yi];
            for (size_t j = 0; j < ko; j++) {
                zi[j] = exp(zi[j] - mx); /* one exp per entry: the loop's main cost */
                sum += zi[j];
            }
            loss += s * (mx + log(sum) - zy);
            double inv = 1.0 / sum;
            for (size_t j = 0; j < ko; j++) {
                zi[j] *= inv;
                gi[j] = s * (zi[j] - (j == yi ? 1.0 : 0.0));
            }
        }
    }
    /* grad W = G^T X + W; grad b = column sums of G. */
    memcpy(grad, theta, ko * d * sizeof *grad);
    cn_gemm(true, false, ko, d, n, 1.0, pr->g, ko, pr->x, d, 1.0, grad, d);
    double reg = 0;
    for (size_t j = 0; j < ko * d; j++)
        reg += theta[j] * theta[j];
    for (size_t j = 0; j < ko; j++) {
        double sb = 0;
        for (size_t i = 0; i < n; i++)
            sb += pr->g[i * ko + j];
        grad[ko * d + j] = pr->fit_intercept ? sb : 0.0;
    }
    return loss + 0.5 * reg;
}

/* out = H v at the point of the last objective() call. */
static void hessvec(problem *pr, const double *v, double *out)
{
    size_t n = pr->n, d = pr->d, ko = pr->k_out;
    double *a = pr->g;
    logits(pr, v, a); /* a = X V^T + v_b */
    for (size_t i = 0; i < n; i++) {
        const double *p = pr->z + i * ko;
        double *ai = a + i * ko;
        double s = pr->c * pr->w[i];
        if (ko == 1) {
            ai[0] *= s * p[0] * (1 - p[0]);
        } else {
            double dot = 0;
            for (size_t j = 0; j < ko; j++)
                dot += p[j] * ai[j];
            for (size_t j = 0; j < ko; j++)
                ai[j] = s * p[j] * (ai[j] - dot);
        }
    }
    memcpy(out, v, ko * d * sizeof *out);
    cn_gemm(true, false, ko, d, n, 1.0, a, ko, pr->x, d, 1.0, out, d);
    for (size_t j = 0; j < ko; j++) {
        double sb = 0;
        for (size_t i = 0; i < n; i++)
            sb += a[i * ko + j];
        out[ko * d + j] = pr->fit_intercept ? sb : 0.0;
    }
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

/* Diagonal of the Hessian at the last objective() point, the CG preconditioner. x2 holds the
 * squared inputs (n x d). */
static void hess_diag(problem *pr, const double *x2, double *diag)
{
    size_t n = pr->n, d = pr->d, ko = pr->k_out;
    double *h = pr->g;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < ko; j++) {
            double q = pr->z[i * ko + j];
            h[i * ko + j] = pr->c * pr->w[i] * q * (1 - q);
        }
    for (size_t j = 0; j < ko * d; j++)
        diag[j] = 1.0;
    cn_gemm(true, false, ko, d, n, 1.0, h, ko, x2, d, 1.0, diag, d);
    for (size_t j = 0; j < ko; j++) {
        double sb = 0;
        for (size_t i = 0; i < n; i++)
            sb += h[i * ko + j];
        diag[ko * d + j] = pr->fit_intercept && sb > 1e-12 ? sb : 1.0;
    }
}

/* Jacobi-preconditioned conjugate gradients for H p = -g, to ||r|| <= eta ||g||. Returns the
 * number of Hessian-vector products. */
static size_t solve_cg(problem *pr, const double *g, const double *diag, double *p, size_t np,
                       double eta, double *r, double *dir, double *hd)
{
    double *z = cn_xmalloc(np * sizeof *z);
    memset(p, 0, np * sizeof *p);
    for (size_t i = 0; i < np; i++) {
        r[i] = -g[i];
        z[i] = r[i] / diag[i];
    }
    memcpy(dir, z, np * sizeof *dir);
    double rz = dot(r, z, np), stop = eta * eta * dot(g, g, np);
    size_t it = 0;
    for (; it < 2 * np + 10 && dot(r, r, np) > stop; it++) {
        hessvec(pr, dir, hd);
        double dhd = dot(dir, hd, np);
        if (!(dhd > 0))
            break;
        double alpha = rz / dhd;
        for (size_t i = 0; i < np; i++) {
            p[i] += alpha * dir[i];
            r[i] -= alpha * hd[i];
            z[i] = r[i] / diag[i];
        }
        double rz_new = dot(r, z, np);
        for (size_t i = 0; i < np; i++)
            dir[i] = z[i] + rz_new / rz * dir[i];
        rz = rz_new;
    }
    free(z);
    if (dot(p, p, np) == 0) /* no curvature found: fall back to steepest descent */
        for (size_t i = 0; i < np; i++)
            p[i] = -g[i];
    /* Softmax logits are invariant to a common intercept shift: keep the intercepts summing to
     * zero (the minimum-norm optimum, as sklearn's solvers reach from zero). */
    if (pr->k_out > 1) {
        double mean = 0, *b = p + pr->k_out * pr->d;
        for (size_t j = 0; j < pr->k_out; j++)
            mean += b[j] / (double)pr->k_out;
        for (size_t j = 0; j < pr->k_out; j++)
            b[j] -= mean;
    }
    return it;
}

/* Strong-Wolfe line search along dir from theta (f, grad at theta; slope = grad . dir < 0),
 * by bracketing and zooming with safeguarded cubic interpolation (Nocedal & Wright, Alg. 3.5
 * and 3.6). Leaves the accepted point in trial/tgrad and its value in *f_out; returns the step,
 * or 0 when no step satisfying the sufficient-decrease condition was found in `max_eval`. */
typedef struct lsearch {
    problem *pr;
    const double *theta, *dir;
    double *trial, *tgrad;
    size_t np;
    double scale; /* objective multiplier: 1 / C, sklearn's scaling */
    size_t n_eval;
} lsearch;

static double ls_eval(lsearch *ls, double t, double *slope)
{
    for (size_t i = 0; i < ls->np; i++)
        ls->trial[i] = ls->theta[i] + t * ls->dir[i];
    double f = objective(ls->pr, ls->trial, ls->tgrad) * ls->scale;
    for (size_t i = 0; i < ls->np; i++)
        ls->tgrad[i] *= ls->scale;
    *slope = dot(ls->tgrad, ls->dir, ls->np);
    ls->n_eval++;
    return f;
}

/* Minimiser of the cubic through (a, fa, ga) and (b, fb, gb), kept inside [lo, hi] away from
 * the ends; bisection when the cubic has no minimiser. */
static double cubic_min(double a, double fa, double ga, double b, double fb, double gb)
{
    double d1 = ga + gb - 3 * (fa - fb) / (a - b), disc = d1 * d1 - ga * gb;
    double lo = fmin(a, b), hi = fmax(a, b), t = 0.5 * (a + b);
    if (disc >= 0) {
        double d2 = (b > a ? 1 : -1) * sqrt(disc);
        double c = b - (b - a) * (gb + d2 - d1) / (gb - ga + 2 * d2);
        if (isfinite(c))
            t = c;
    }
    double margin = 0.1 * (hi - lo);
    return fmin(fmax(t, lo + margin), hi - margin);
}

static double wolfe_search(lsearch *ls, double f0, double slope0, double t, size_t max_eval,
                           double *f_out)
{
    const double c1 = 1e-4, c2 = 0.9;
    double t_prev = 0, f_prev = f0, g_prev = slope0, ft, gt;
    double lo = 0, f_lo = f0, g_lo = slope0, hi = 0, f_hi = 0, g_hi = 0;
    bool zoom = false;
    for (size_t it = 0; it < max_eval; it++) {
        ft = ls_eval(ls, t, &gt);
        if (!zoom) {
            if (!isfinite(ft) || ft > f0 + c1 * t * slope0 || (it > 0 && ft >= f_prev)) {
                lo = t_prev, f_lo = f_prev, g_lo = g_prev;
                hi = t, f_hi = ft, g_hi = gt;
                zoom = true;
            } else if (fabs(gt) <= -c2 * slope0) {
                *f_out = ft;
                return t;
            } else if (gt >= 0) {
                lo = t, f_lo = ft, g_lo = gt;
                hi = t_prev, f_hi = f_prev, g_hi = g_prev;
                zoom = true;
            } else {
                t_prev = t, f_prev = ft, g_prev = gt;
                t *= 4;
                continue;
            }
        } else {
            if (!isfinite(ft) || ft > f0 + c1 * t * slope0 || ft >= f_lo) {
                hi = t, f_hi = ft, g_hi = gt;
            } else {
                if (fabs(gt) <= -c2 * slope0) {
                    *f_out = ft;
                    return t;
                }
                if (gt * (hi - lo) >= 0)
                    hi = lo, f_hi = f_lo, g_hi = g_lo;
                lo = t, f_lo = ft, g_lo = gt;
            }
        }
        if (fabs(hi - lo) <= 1e-16 * fmax(1.0, fabs(lo)))
            break;
        t = isfinite(f_hi) ? cubic_min(lo, f_lo, g_lo, hi, f_hi, g_hi) : 0.5 * (lo + hi);
    }
    /* Out of evaluations: settle for the best sufficient-decrease point seen, if any. */
    if (lo > 0) {
        *f_out = ls_eval(ls, lo, &gt);
        return lo;
    }
    return 0;
}

/* L-BFGS (two-loop recursion, memory `mem`) on sklearn's scaling of the objective,
 * F = f / C = sum s_i loss_i + ||W||^2 / (2C). Stops as scipy's L-BFGS-B does for sklearn:
 * max |grad F| <= tol, or a relative decrease (F_k - F_k+1) / max(|F_k|, |F_k+1|, 1) at most
 * 1e7 * DBL_EPSILON (scipy's default factr). Returns the iterations; *f_out is F. */
static int64_t fit_lbfgs(problem *pr, double *theta, size_t np, double tol, int64_t max_iter,
                         double *grad, double *f_out, size_t *n_eval)
{
    enum { MEM = 10 };
    const double ftol = 1e7 * 2.220446049250313e-16;
    double *s = cn_xmalloc(MEM * np * sizeof *s), *yv = cn_xmalloc(MEM * np * sizeof *yv);
    double rho[MEM], alpha[MEM];
    double *dir = cn_xmalloc(np * sizeof *dir), *trial = cn_xmalloc(np * sizeof *trial);
    double *tgrad = cn_xmalloc(np * sizeof *tgrad);
    lsearch ls = {pr, theta, dir, trial, tgrad, np, 1.0 / pr->c, 0};
    double slope0;
    memset(dir, 0, np * sizeof *dir);
    double f = ls_eval(&ls, 0.0, &slope0);
    memcpy(grad, tgrad, np * sizeof *grad);
    size_t stored = 0, head = 0;
    int64_t iter = 0;
    while (iter < max_iter && max_abs(grad, np) > tol) {
        /* Two-loop recursion: dir = -H g. */
        for (size_t i = 0; i < np; i++)
            dir[i] = -grad[i];
        for (size_t j = 0; j < stored; j++) {
            size_t b = (head + MEM - 1 - j) % MEM;
            alpha[b] = rho[b] * dot(s + b * np, dir, np);
            for (size_t i = 0; i < np; i++)
                dir[i] -= alpha[b] * yv[b * np + i];
        }
        if (stored > 0) {
            size_t last = (head + MEM - 1) % MEM;
            double gamma =
                dot(s + last * np, yv + last * np, np) / dot(yv + last * np, yv + last * np, np);
            for (size_t i = 0; i < np; i++)
                dir[i] *= gamma;
        }
        for (size_t j = stored; j-- > 0;) {
            size_t b = (head + MEM - 1 - j) % MEM;
            double beta = rho[b] * dot(yv + b * np, dir, np);
            for (size_t i = 0; i < np; i++)
                dir[i] += (alpha[b] - beta) * s[b * np + i];
        }
        double slope = dot(grad, dir, np);
        if (!(slope < 0)) { /* not a descent direction: restart from steepest descent */
            stored = 0;
            for (size_t i = 0; i < np; i++)
                dir[i] = -grad[i];
            slope = -dot(grad, grad, np);
        }
        /* First step as L-BFGS-B: 1 / ||d||, capped at 1; then the unit quasi-Newton step. */
        double t0 = stored == 0 ? fmin(1.0, 1.0 / sqrt(dot(dir, dir, np))) : 1.0, f_new;
        double t = wolfe_search(&ls, f, slope, t0, 20, &f_new);
        if (t == 0)
            break; /* no decrease possible along dir in double precision */
        iter++;
        double *sb = s + head * np, *yb = yv + head * np;
        for (size_t i = 0; i < np; i++) {
            sb[i] = trial[i] - theta[i];
            yb[i] = tgrad[i] - grad[i];
        }
        double sy = dot(sb, yb, np);
        if (sy > 1e-10 * dot(yb, yb, np)) { /* keep the pair only with positive curvature */
            rho[head] = 1.0 / sy;
            head = (head + 1) % MEM;
            stored += stored < MEM;
        }
        memcpy(theta, trial, np * sizeof *theta);
        memcpy(grad, tgrad, np * sizeof *grad);
        double f_old = f;
        f = f_new;
        if (report_iter(pr, iter, f) != 0)
            break;
        if (max_abs(grad, np) <= tol)
            break;
        if (f_old - f <= ftol * fmax(fmax(fabs(f_old), fabs(f)), 1.0))
            break;
    }
    *f_out = f;
    *n_eval = ls.n_eval;
    free(s);
    free(yv);
    free(dir);
    free(trial);
    free(tgrad);
    return iter;
}

/* Newton-CG to max |grad F| <= tol (F = f / C, as sklearn's newton-cg). Returns the
 * iterations; grad gets grad F and *f_out F. */
static int64_t fit_newton(problem *pr, double *theta, size_t np, double tol, int64_t max_iter,
                          double *grad, double *f_out, size_t *n_cg)
{
    size_t n = pr->n, d = pr->d;
    double *step = cn_xmalloc(np * sizeof *step), *trial = cn_xmalloc(np * sizeof *trial);
    double *tgrad = cn_xmalloc(np * sizeof *tgrad), *r = cn_xmalloc(np * sizeof *r);
    double *dir = cn_xmalloc(np * sizeof *dir), *hd = cn_xmalloc(np * sizeof *hd);
    double *x2 = cn_xmalloc((n * d > 0 ? n * d : 1) * sizeof *x2),
           *diag = cn_xmalloc(np * sizeof *diag);
    for (size_t i = 0; i < n * d; i++)
        x2[i] = pr->x[i] * pr->x[i];
    double f = objective(pr, theta, grad), gtol = tol * pr->c; /* in f's scaling */
    int64_t iter = 0;
    *n_cg = 0;
    for (; iter < max_iter; iter++) {
        double gmax = max_abs(grad, np);
        if (gmax <= gtol)
            break;
        double gnorm = sqrt(dot(grad, grad, np));
        hess_diag(pr, x2, diag);
        *n_cg += solve_cg(pr, grad, diag, step, np, fmin(0.5, sqrt(gnorm)), r, dir, hd);
        double slope = dot(grad, step, np), t = 1.0, f_new = f;
        bool accepted = false;
        for (int ls = 0; ls < 60 && !accepted; ls++, t *= 0.5) {
            for (size_t i = 0; i < np; i++)
                trial[i] = theta[i] + t * step[i];
            f_new = objective(pr, trial, tgrad);
            /* Armijo; near the optimum f is flat to rounding, so a smaller gradient counts. */
            accepted = f_new <= f + 1e-4 * t * slope ||
                       (f_new <= f + 1e-12 * fabs(f) && max_abs(tgrad, np) < gmax);
        }
        if (!accepted)
            break; /* no progress is possible in double precision */
        memcpy(theta, trial, np * sizeof *theta);
        memcpy(grad, tgrad, np * sizeof *grad);
        f = f_new;
        if (report_iter(pr, iter + 1, f / pr->c) != 0) {
            iter++;
            break;
        }
    }
    for (size_t i = 0; i < np; i++)
        grad[i] /= pr->c;
    *f_out = f / pr->c;
    free(step);
    free(trial);
    free(tgrad);
    free(r);
    free(dir);
    free(hd);
    free(x2);
    free(diag);
    return iter;
}

enum { SOLVER_AUTO, SOLVER_LBFGS, SOLVER_NEWTON };

/* Weights above which "auto" picks L-BFGS: Newton-CG's Hessian products pay off on small
 * problems, L-BFGS's cheap iterations on larger ones (see docs/learners.md). */
#define LOGISTIC_AUTO_LBFGS_PARAMS 200

static const char *const solver_choices[] = {"auto", "lbfgs", "newton-cg", NULL};

static cairn_status logistic_fit(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                                 cn_learner **out)
{
    double c, tol;
    int64_t max_iter;
    bool fit_intercept;
    int solver;
    cairn_status rc = cn_param_double(ctx, p, "C", 1.0, 1e-300, 1e300, &c);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "tol", 1e-8, 0.0, 1e300, &tol);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "max_iter", 1000, 1, 1000000, &max_iter);
    if (rc == CAIRN_OK)
        rc = cn_param_bool(ctx, p, "fit_intercept", true, &fit_intercept);
    if (rc == CAIRN_OK)
        rc = cn_param_choice(ctx, p, "solver", solver_choices, SOLVER_AUTO, &solver);
    if (rc != CAIRN_OK)
        return rc;
    size_t n = data->train.n, d = data->d, k = data->n_classes;
    size_t ko = k == 2 ? 1 : k, np = ko * (d + 1);
    if (solver == SOLVER_AUTO)
        solver = np > LOGISTIC_AUTO_LBFGS_PARAMS ? SOLVER_LBFGS : SOLVER_NEWTON;
    problem pr = {n,
                  d,
                  ko,
                  data->train.x,
                  data->train.y,
                  data->train.w,
                  c,
                  fit_intercept,
                  cn_xmalloc((n * ko > 0 ? n * ko : 1) * sizeof(double)),
                  cn_xmalloc((n * ko > 0 ? n * ko : 1) * sizeof(double)),
                  data,
                  0};
    for (size_t i = 0; i < n; i++)
        pr.w_sum += data->train.w ? data->train.w[i] : 1.0;
    double *theta = cn_xcalloc(np, sizeof *theta), *grad = cn_xmalloc(np * sizeof *grad);
    double f;
    size_t work;
    int64_t iter = solver == SOLVER_LBFGS
                       ? fit_lbfgs(&pr, theta, np, tol, max_iter, grad, &f, &work)
                       : fit_newton(&pr, theta, np, tol, max_iter, grad, &f, &work);
    double gfinal = max_abs(grad, np);
    /* The bench reads this line: keep "loss" and "gradient" parseable. */
    cn_log(ctx, CAIRN_LOG_DEBUG, "learn",
           "logistic: solver %s, %lld iterations, %zu %s, loss %.17g, gradient %.6g",
           solver == SOLVER_LBFGS ? "lbfgs" : "newton-cg", (long long)iter, work,
           solver == SOLVER_LBFGS ? "evaluations" : "hessian products", f, gfinal);
    if (iter >= max_iter && gfinal > tol)
        cn_log(ctx, CAIRN_LOG_WARN, "learn",
               "logistic: stopped after max_iter %lld iterations with gradient %.3g > tol %.3g; "
               "raise max_iter",
               (long long)iter, gfinal, tol);
    logistic *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_logistic_ops;
    m->d = d;
    m->k = k;
    m->k_out = ko;
    m->coef = cn_xmemdup(theta, (ko * d > 0 ? ko * d : 1) * sizeof *theta);
    m->intercept = cn_xmemdup(theta + ko * d, ko * sizeof *theta);
    free(pr.z);
    free(pr.g);
    free(theta);
    free(grad);
    *out = &m->base;
    return CAIRN_OK;
}

static cairn_status logistic_predict(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                                     double *out)
{
    (void)ctx;
    const logistic *m = (const logistic *)l;
    size_t ko = m->k_out, k = m->k;
    double *z = cn_xmalloc((n * ko > 0 ? n * ko : 1) * sizeof *z);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < ko; j++)
            z[i * ko + j] = m->intercept[j];
    cn_gemm(false, true, n, ko, m->d, 1.0, x, m->d, m->coef, m->d, 1.0, z, ko);
    for (size_t i = 0; i < n; i++) {
        if (ko == 1) {
            double q = sigmoid(z[i]);
            out[i * 2] = 1 - q;
            out[i * 2 + 1] = q;
        } else {
            cn_softmax(z + i * ko, ko);
            memcpy(out + i * k, z + i * ko, k * sizeof *out);
        }
    }
    free(z);
    return CAIRN_OK;
}

/* Symmetric int8 of row w[0..d): scale = max |w| / 127 (1 when all are 0). */
static double row_scale(const double *w, size_t d)
{
    double mx = 0;
    for (size_t j = 0; j < d; j++)
        mx = fabs(w[j]) > mx ? fabs(w[j]) : mx;
    return mx > 0 ? mx / 127.0 : 1.0;
}

static signed char quant(double w, double scale)
{
    double q = round(w / scale);
    return (signed char)(q > 127 ? 127 : q < -127 ? -127 : q);
}

void cn_logistic_quantize(cn_learner *l)
{
    logistic *m = (logistic *)l;
    if (m->int8)
        return;
    m->scales = cn_xcalloc(m->k_out, sizeof *m->scales);
    for (size_t j = 0; j < m->k_out; j++) {
        double *w = m->coef + j * m->d, scale = row_scale(w, m->d);
        for (size_t i = 0; i < m->d; i++)
            w[i] = quant(w[i], scale) * scale;
        m->scales[j] = scale;
    }
    m->int8 = true;
}

static void logistic_save(const cn_learner *l, cn_buf *payload)
{
    const logistic *m = (const logistic *)l;
    if (m->int8) {
        cn_put_u64(payload, LOGISTIC_Q8_MARK);
        cn_put_u64(payload, m->d);
        cn_put_u64(payload, m->k_out);
        for (size_t j = 0; j < m->k_out; j++) {
            const double *w = m->coef + j * m->d;
            double scale = m->scales[j];
            cn_put_f64s(payload, &scale, 1);
            for (size_t i = 0; i < m->d; i++) {
                signed char q = quant(w[i], scale);
                cn_buf_append(payload, &q, 1);
            }
        }
        cn_put_f64s(payload, m->intercept, m->k_out);
        return;
    }
    cn_put_u64(payload, m->d);
    cn_put_u64(payload, m->k_out);
    cn_put_f64s(payload, m->coef, m->k_out * m->d);
    cn_put_f64s(payload, m->intercept, m->k_out);
}

static cairn_status load_int8(cairn_ctx *ctx, cn_reader *r, size_t d, size_t ko, logistic *m)
{
    if (cn_get_u64(r) != d || cn_get_u64(r) != ko || r->len - r->pos != ko * (8 + d) + 8 * ko)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "logistic int8 payload: does not match %zu inputs and %zu weight rows", d,
                       ko);
    m->scales = cn_xcalloc(ko, sizeof *m->scales);
    m->int8 = true;
    for (size_t j = 0; j < ko; j++) {
        double scale;
        cn_get_f64s(r, &scale, 1);
        m->scales[j] = scale;
        if (!(scale > 0) || !isfinite(scale))
            return cn_fail(ctx, CAIRN_EINVAL, "logistic int8 payload: bad scale");
        for (size_t i = 0; i < d; i++)
            m->coef[j * d + i] = (double)(signed char)r->p[r->pos++] * scale;
    }
    cn_get_f64s(r, m->intercept, ko);
    return CAIRN_OK;
}

static cairn_status logistic_load(cairn_ctx *ctx, const void *payload, size_t len, size_t d,
                                  cn_task task, size_t n_classes, cn_learner **out)
{
    cn_reader r = {payload, len, 0, false};
    size_t ko = n_classes == 2 ? 1 : n_classes;
    if (task != CN_TASK_CLASSIFICATION || n_classes < 2 || len < 16)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "logistic payload: does not match %zu inputs and %zu classes", d, n_classes);
    uint64_t first = cn_get_u64(&r);
    bool q8 = first == LOGISTIC_Q8_MARK;
    if (!q8 && (first != d || cn_get_u64(&r) != ko || (len - 16) / 8 / (d + 1) != ko ||
                (len - 16) % (8 * (d + 1))))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "logistic payload: does not match %zu inputs and "
                       "%zu classes",
                       d, n_classes);
    logistic *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_logistic_ops;
    m->d = d;
    m->k = n_classes;
    m->k_out = ko;
    m->coef = cn_xcalloc(ko * d > 0 ? ko * d : 1, sizeof *m->coef);
    m->intercept = cn_xcalloc(ko, sizeof *m->intercept);
    if (q8) {
        cairn_status rc = load_int8(ctx, &r, d, ko, m);
        if (rc != CAIRN_OK) {
            cn_logistic_ops.free(&m->base);
            return rc;
        }
    } else {
        cn_get_f64s(&r, m->coef, ko * d);
        cn_get_f64s(&r, m->intercept, ko);
    }
    *out = &m->base;
    return CAIRN_OK;
}

/* d loss_i / d x_i = sum_j (p_ij - [y_i = j]) W_j (binary: (p_i - y_i) w). */
static cairn_status logistic_input_grad(cairn_ctx *ctx, const cn_learner *l, const double *x,
                                        const double *y, size_t n, double *grad_out)
{
    const logistic *m = (const logistic *)l;
    size_t d = m->d, ko = m->k_out, k = m->k;
    double *p = cn_xmalloc((n * k > 0 ? n * k : 1) * sizeof *p);
    cairn_status rc = cn_logistic_ops.predict(ctx, l, x, n, p);
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        double *g = grad_out + i * d;
        size_t yi = (size_t)y[i];
        for (size_t c = 0; c < d; c++)
            g[c] = 0;
        for (size_t j = 0; j < ko; j++) {
            double r = ko == 1 ? p[i * 2 + 1] - (yi == 1 ? 1.0 : 0.0)
                               : p[i * k + j] - (yi == j ? 1.0 : 0.0);
            for (size_t c = 0; c < d; c++)
                g[c] += r * m->coef[j * d + c];
        }
    }
    free(p);
    return rc;
}

static void logistic_free(cn_learner *l)
{
    logistic *m = (logistic *)l;
    if (!m)
        return;
    free(m->coef);
    free(m->intercept);
    free(m->scales);
    free(m);
}

size_t cn_logistic_weights(const cn_learner *l, const double **coef, const double **intercept)
{
    const logistic *m = (const logistic *)l;
    *coef = m->coef;
    *intercept = m->intercept;
    return m->k_out;
}

static const cairn_param_spec logistic_params[] = {
    {.name = "C",
     .type = CAIRN_PARAM_FLOAT,
     .low = 1e-300,
     .high = 1e300,
     .default_value = "1.0",
     .log_scale = true,
     .help = "inverse L2 strength"},
    {.name = "tol",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0.0,
     .high = 1e300,
     .default_value = "1e-8",
     .log_scale = true,
     .help = "stop when the gradient's largest entry is at most this"},
    {.name = "max_iter",
     .type = CAIRN_PARAM_INT,
     .low = 1,
     .high = 1000000,
     .default_value = "1000",
     .log_scale = true,
     .help = "L-BFGS or Newton iterations"},
    CN_SPEC_FIT_INTERCEPT,
    CN_SPEC_STANDARDIZE,
    {.name = "solver",
     .type = CAIRN_PARAM_CATEGORICAL,
     .default_value = "auto",
     .choices = solver_choices,
     .help = "lbfgs, newton-cg, or auto: Newton-CG up to 200 weights"},
};

const cn_learner_ops cn_logistic_ops = {
    .name = "logistic",
    .params = logistic_params,
    .n_params = CN_N_SPECS(logistic_params),
    .tasks = CN_TASK_CLASSIFICATION,
    .standardize = true,
    .fit = logistic_fit,
    .predict = logistic_predict,
    .save = logistic_save,
    .load = logistic_load,
    .free = logistic_free,
    .input_grad = logistic_input_grad,
};
