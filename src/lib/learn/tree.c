/* SPDX-License-Identifier: MIT */
/* tree.c - CART decision trees (cart.h: grown by exact best-split search over sorted values,
 * thresholds at midpoints, gini/entropy/squared error as scikit-learn's DecisionTreeClassifier
 * and DecisionTreeRegressor) and the `tree` learner. Categories arrive as ordinal codes. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn/cart.h"
#include "core/core.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define FEATURE_THRESHOLD 1e-7 /* scikit-learn's: closer values are not split apart */

const char *const cn_cart_criteria[] = {"auto",     "gini",          "entropy",
                                        "log_loss", "squared_error", NULL};

/* "sqrt", "log2", "none", "auto", an integer count, or a fraction with a '.' or exponent. */
static cairn_status parse_max_features(cairn_ctx *ctx, const char *v, size_t d, cn_task task,
                                       size_t *out)
{
    double f;
    int64_t k;
    size_t m = 0;
    if (strcmp(v, "auto") == 0)
        v = task == CN_TASK_CLASSIFICATION ? "sqrt" : "none";
    if (strcmp(v, "sqrt") == 0)
        m = (size_t)sqrt((double)d);
    else if (strcmp(v, "log2") == 0)
        m = (size_t)log2((double)d);
    else if (strcmp(v, "none") == 0)
        m = d;
    else if (strpbrk(v, ".eE") && cn_parse_double(v, &f) && f > 0 && f <= 1)
        m = (size_t)(f * (double)d);
    else if (!strpbrk(v, ".eE") && cn_parse_int64(v, &k) && k >= 1 && (uint64_t)k <= d)
        m = (size_t)k;
    else
        return cn_fail(ctx, CAIRN_EINVAL,
                       "param 'max_features': expected sqrt, log2, none, a fraction in (0, 1] "
                       "(with a '.') or a count in [1, %zu], got '%s'",
                       d, v);
    *out = m < 1 ? 1 : m;
    return CAIRN_OK;
}

cairn_status cn_cart_read_opts(cairn_ctx *ctx, const cn_params *p, size_t d, cn_task task,
                               const char *def_features, cn_cart_opts *o)
{
    int crit;
    int64_t depth, split, leaf;
    cairn_status rc = cn_param_choice(ctx, p, "criterion", cn_cart_criteria, 0, &crit);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "max_depth", 0, 0, 1000000, &depth);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "min_samples_split", 2, 2, INT64_MAX, &split);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "min_samples_leaf", 1, 1, INT64_MAX, &leaf);
    if (rc == CAIRN_OK)
        rc = cn_param_double(ctx, p, "min_impurity_decrease", 0, 0, HUGE_VAL,
                             &o->min_impurity_decrease);
    if (rc != CAIRN_OK)
        return rc;
    bool classify = task == CN_TASK_CLASSIFICATION;
    if (crit == 0)
        crit = classify ? 1 : 4;
    if (classify && crit == 4)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "param 'criterion': squared_error is for regression; a classifier "
                       "takes gini, entropy or log_loss");
    if (!classify && crit != 4)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "param 'criterion': %s is for classification; regression takes "
                       "squared_error (or set task=classification)",
                       cn_cart_criteria[crit]);
    o->criterion = crit == 1 ? CN_CART_GINI : crit == 4 ? CN_CART_SQUARED : CN_CART_ENTROPY;
    o->max_depth = (size_t)depth;
    o->min_samples_split = (size_t)split;
    o->min_samples_leaf = (size_t)leaf;
    const char *mf = cn_param_get(p, "max_features");
    return parse_max_features(ctx, mf ? mf : def_features, d, task, &o->max_features);
}

/* ---- growing ---- */

typedef struct grower {
    const cn_cart_opts *o;
    size_t d, k; /* k: n_out */
    const double *x, *y, *w;
    size_t *rows; /* partitioned in place, one range per node */
    double *vals; /* scratch: a node's values of one feature, sorted with sorted rows */
    size_t *srt;
    struct vi *pairs;     /* scratch for sorting srt */
    double *left, *total; /* k stats: class weights, or (sum, sum of squares) for regression */
    size_t *feats;
    cn_cart *t;
    size_t cap;
} grower;

/* Weighted impurity times weight: wsum * impurity, from class weights or (sum, sumsq). */
static double weighted_impurity(const grower *g, const double *s, double wsum)
{
    if (wsum <= 0)
        return 0;
    if (g->o->criterion == CN_CART_SQUARED)
        return s[1] - s[0] * s[0] / wsum;
    double acc = 0;
    if (g->o->criterion == CN_CART_GINI) {
        for (size_t c = 0; c < g->k; c++)
            acc += s[c] * s[c];
        return wsum - acc / wsum;
    }
    for (size_t c = 0; c < g->k; c++)
        if (s[c] > 0)
            acc -= s[c] * log2(s[c] / wsum);
    return acc;
}

static size_t stat_len(const grower *g)
{
    return g->o->criterion == CN_CART_SQUARED ? 2 : g->k;
}

static void add_row(const grower *g, double *s, size_t r, double sign)
{
    double w = g->w ? g->w[r] : 1.0;
    if (g->o->criterion == CN_CART_SQUARED) {
        s[0] += sign * w * g->y[r];
        s[1] += sign * w * g->y[r] * g->y[r];
    } else {
        s[(size_t)g->y[r]] += sign * w;
    }
}

static size_t new_node(grower *g)
{
    cn_cart *t = g->t;
    if (t->n_nodes == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 64;
        t->feature = cn_xrealloc(t->feature, g->cap * sizeof *t->feature);
        t->threshold = cn_xrealloc(t->threshold, g->cap * sizeof *t->threshold);
        t->left = cn_xrealloc(t->left, g->cap * sizeof *t->left);
        t->right = cn_xrealloc(t->right, g->cap * sizeof *t->right);
        t->value = cn_xrealloc(t->value, g->cap * t->n_out * sizeof *t->value);
    }
    size_t i = t->n_nodes++;
    t->feature[i] = -1;
    t->threshold[i] = 0;
    t->left[i] = t->right[i] = 0;
    return i;
}

/* A node's values of one feature with their positions, sorted by value. Equal values may
 * come in any (deterministic) order: splits are only tried between distinct values, and the
 * stats summed up to such a point are the same rows whatever their order. Inline three-way
 * quicksort (median of three, insertion sort below 16, recursion on the smaller side), as
 * scikit-learn's: features with few distinct values (pixels, counts) collapse at once; qsort's
 * indirect comparator cost half a forest's fit. */
typedef struct vi {
    double v;
    size_t i;
} vi;

static void vi_swap(vi *a, vi *b)
{
    vi t = *a;
    *a = *b;
    *b = t;
}

static double median3(double a, double b, double c)
{
    return a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
}

static void vi_sort(vi *a, size_t n)
{
    while (n > 16) {
        double pivot = median3(a[0].v, a[n / 2].v, a[n - 1].v);
        size_t lt = 0, i = 0, gt = n; /* a[0..lt) < pivot, a[lt..i) == pivot, a[gt..n) > */
        while (i < gt) {
            if (a[i].v < pivot)
                vi_swap(&a[lt++], &a[i++]);
            else if (a[i].v > pivot)
                vi_swap(&a[i], &a[--gt]);
            else
                i++;
        }
        size_t nl = lt, nr = n - gt;
        if (nl < nr) {
            vi_sort(a, nl);
            a += gt;
            n = nr;
        } else {
            vi_sort(a + gt, nr);
            n = nl;
        }
    }
    for (size_t i = 1; i < n; i++) {
        vi t = a[i];
        size_t j = i;
        for (; j > 0 && t.v < a[j - 1].v; j--)
            a[j] = a[j - 1];
        a[j] = t;
    }
}

typedef struct split {
    int64_t feature;
    double threshold, proxy, w_left, imp_left, imp_right;
    size_t n_left;
} split;

/* Best split of rows[lo..hi) (node stats in g->total, weight wn); feature < 0 if none. */
static split best_split(grower *g, size_t lo, size_t hi, double wn, cn_rng *rng)
{
    split best = {.feature = -1, .proxy = HUGE_VAL};
    size_t n = hi - lo, sl = stat_len(g), visited = 0, leaf = g->o->min_samples_leaf;
    for (size_t f = 0; f < g->d; f++)
        g->feats[f] = f;
    for (size_t i = 0; i < g->d && visited < g->o->max_features; i++) {
        size_t j = i + (size_t)cn_rng_below(rng, g->d - i), f = g->feats[j];
        g->feats[j] = g->feats[i];
        g->feats[i] = f;
        double vmin = HUGE_VAL, vmax = -HUGE_VAL;
        for (size_t a = 0; a < n; a++) {
            double v = g->x[g->rows[lo + a] * g->d + f];
            g->vals[a] = v;
            g->pairs[a] = (vi){v, a};
            vmin = v < vmin ? v : vmin;
            vmax = v > vmax ? v : vmax;
        }
        if (vmax <= vmin + FEATURE_THRESHOLD)
            continue; /* constant here (the test below, without the sort) */
        vi_sort(g->pairs, n);
        for (size_t a = 0; a < n; a++)
            g->srt[a] = g->pairs[a].i;
        double first = g->vals[g->srt[0]], last = g->vals[g->srt[n - 1]];
        if (last <= first + FEATURE_THRESHOLD)
            continue; /* constant here: does not count towards max_features */
        visited++;
        memset(g->left, 0, sl * sizeof *g->left);
        double wl = 0;
        for (size_t a = 0; a + 1 < n; a++) {
            size_t r = g->rows[lo + g->srt[a]];
            add_row(g, g->left, r, 1.0);
            wl += g->w ? g->w[r] : 1.0;
            double xa = g->vals[g->srt[a]], xb = g->vals[g->srt[a + 1]];
            if (xb <= xa + FEATURE_THRESHOLD || a + 1 < leaf || n - (a + 1) < leaf)
                continue;
            double right[2], *rs = g->o->criterion == CN_CART_SQUARED ? right : NULL;
            double il, ir;
            il = weighted_impurity(g, g->left, wl);
            if (rs) {
                rs[0] = g->total[0] - g->left[0];
                rs[1] = g->total[1] - g->left[1];
                ir = weighted_impurity(g, rs, wn - wl);
            } else {
                double *tmp = g->left + g->k; /* scratch after the left stats */
                for (size_t c = 0; c < g->k; c++)
                    tmp[c] = g->total[c] - g->left[c];
                ir = weighted_impurity(g, tmp, wn - wl);
            }
            if (il + ir < best.proxy) {
                best.proxy = il + ir;
                best.feature = (int64_t)f;
                best.threshold = xa / 2.0 + xb / 2.0;
                if (best.threshold == xb || isinf(best.threshold))
                    best.threshold = xa;
                best.w_left = wl;
                best.imp_left = il;
                best.imp_right = ir;
                best.n_left = a + 1;
            }
        }
    }
    return best;
}

typedef struct frame {
    size_t node, lo, hi, depth;
} frame;

void cn_cart_grow(cn_cart *t, const cn_cart_opts *o, size_t d, size_t n_out, const double *x,
                  const double *y, const double *w, const size_t *rows, size_t n, cn_rng *rng)
{
    memset(t, 0, sizeof *t);
    t->n_out = n_out;
    grower g = {.o = o, .d = d, .k = n_out, .x = x, .y = y, .w = w, .t = t};
    size_t sl = o->criterion == CN_CART_SQUARED ? 2 : n_out;
    g.rows = cn_xmemdup(rows, (n ? n : 1) * sizeof *rows);
    g.vals = cn_xmalloc((n ? n : 1) * sizeof *g.vals);
    g.srt = cn_xmalloc((n ? n : 1) * sizeof *g.srt);
    g.pairs = cn_xmalloc((n ? n : 1) * sizeof *g.pairs);
    g.left = cn_xcalloc(2 * sl, sizeof *g.left);
    g.total = cn_xcalloc(sl, sizeof *g.total);
    g.feats = cn_xmalloc((d ? d : 1) * sizeof *g.feats);
    double w_root = 0;
    for (size_t i = 0; i < n; i++)
        w_root += w ? w[rows[i]] : 1.0;
    frame *stack = cn_xmalloc(64 * sizeof *stack);
    size_t top = 0, cap = 64;
    stack[top++] = (frame){new_node(&g), 0, n, 0};
    while (top > 0) {
        frame fr = stack[--top];
        size_t nn = fr.hi - fr.lo;
        memset(g.total, 0, sl * sizeof *g.total);
        double wn = 0;
        for (size_t a = fr.lo; a < fr.hi; a++) {
            add_row(&g, g.total, g.rows[a], 1.0);
            wn += w ? w[g.rows[a]] : 1.0;
        }
        double *val = t->value + fr.node * n_out;
        if (o->criterion == CN_CART_SQUARED)
            val[0] = wn > 0 ? g.total[0] / wn : 0;
        else
            for (size_t c = 0; c < n_out; c++)
                val[c] = wn > 0 ? g.total[c] / wn : 0;
        double imp = wn > 0 ? weighted_impurity(&g, g.total, wn) / wn : 0;
        bool leaf = (o->max_depth && fr.depth >= o->max_depth) || nn < o->min_samples_split ||
                    nn < 2 * o->min_samples_leaf || imp <= DBL_EPSILON || d == 0;
        split s = {.feature = -1};
        if (!leaf)
            s = best_split(&g, fr.lo, fr.hi, wn, rng);
        if (s.feature >= 0) {
            double improvement = (wn / w_root) * (imp - s.imp_right / wn - s.imp_left / wn);
            if (improvement + DBL_EPSILON < o->min_impurity_decrease)
                s.feature = -1;
        }
        if (s.feature < 0)
            continue;
        /* Partition: rows with x <= threshold first, order kept within each side. */
        size_t nl = 0;
        for (size_t a = fr.lo; a < fr.hi; a++)
            if (x[g.rows[a] * d + (size_t)s.feature] <= s.threshold)
                g.srt[nl++] = g.rows[a];
        size_t nr = nl;
        for (size_t a = fr.lo; a < fr.hi; a++)
            if (!(x[g.rows[a] * d + (size_t)s.feature] <= s.threshold))
                g.srt[nr++] = g.rows[a];
        memcpy(g.rows + fr.lo, g.srt, nn * sizeof *g.rows);
        size_t l = new_node(&g), r = new_node(&g);
        t->feature[fr.node] = s.feature;
        t->threshold[fr.node] = s.threshold;
        t->left[fr.node] = l;
        t->right[fr.node] = r;
        if (top + 2 > cap) {
            cap *= 2;
            stack = cn_xrealloc(stack, cap * sizeof *stack);
        }
        stack[top++] = (frame){r, fr.lo + nl, fr.hi, fr.depth + 1};
        stack[top++] = (frame){l, fr.lo, fr.lo + nl, fr.depth + 1};
    }
    free(stack);
    free(g.rows);
    free(g.vals);
    free(g.srt);
    free(g.pairs);
    free(g.left);
    free(g.total);
    free(g.feats);
}

const double *cn_cart_leaf(const cn_cart *t, const double *row)
{
    size_t i = 0;
    while (t->feature[i] >= 0)
        i = row[t->feature[i]] <= t->threshold[i] ? t->left[i] : t->right[i];
    return t->value + i * t->n_out;
}

void cn_cart_save(const cn_cart *t, cn_buf *b)
{
    cn_put_u64(b, t->n_nodes);
    for (size_t i = 0; i < t->n_nodes; i++) {
        cn_put_u64(b, (uint64_t)(t->feature[i] + 1));
        cn_put_f64s(b, &t->threshold[i], 1);
        cn_put_u64(b, t->left[i]);
        cn_put_u64(b, t->right[i]);
    }
    cn_put_f64s(b, t->value, t->n_nodes * t->n_out);
}

bool cn_cart_load(cn_cart *t, cn_reader *r, size_t d, size_t n_out)
{
    memset(t, 0, sizeof *t);
    uint64_t nn = cn_get_u64(r);
    if (nn == 0 || n_out == 0 || nn > SIZE_MAX / 64 / (4 + (uint64_t)n_out) ||
        !cn_reader_has(r, (size_t)nn * (4 + n_out)))
        return false;
    size_t n = (size_t)nn;
    t->n_nodes = n;
    t->n_out = n_out;
    t->feature = cn_xmalloc(n * sizeof *t->feature);
    t->threshold = cn_xmalloc(n * sizeof *t->threshold);
    t->left = cn_xmalloc(n * sizeof *t->left);
    t->right = cn_xmalloc(n * sizeof *t->right);
    t->value = cn_xmalloc(n * n_out * sizeof *t->value);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        uint64_t f = cn_get_u64(r);
        cn_get_f64s(r, &t->threshold[i], 1);
        uint64_t l = cn_get_u64(r), rr = cn_get_u64(r);
        t->feature[i] = f > d ? -1 : (int64_t)f - 1;
        t->left[i] = (size_t)l;
        t->right[i] = (size_t)rr;
        /* children come after their parent: every walk ends */
        if (f > d || (f > 0 && (l <= i || rr <= i || l >= n || rr >= n || l == rr ||
                                isnan(t->threshold[i]))))
            ok = false;
    }
    cn_get_f64s(r, t->value, n * n_out);
    for (size_t i = 0; i < n * n_out; i++)
        ok = ok && isfinite(t->value[i]);
    if (!ok || r->bad) {
        cn_cart_release(t);
        return false;
    }
    return true;
}

void cn_cart_release(cn_cart *t)
{
    if (!t)
        return;
    free(t->feature);
    free(t->threshold);
    free(t->left);
    free(t->right);
    free(t->value);
    memset(t, 0, sizeof *t);
}

/* ---- the `tree` learner ---- */

typedef struct tree {
    cn_learner base;
    size_t d;
    cn_task task;
    cn_cart cart;
} tree;

static cairn_status tree_fit(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                             cn_learner **out)
{
    cn_cart_opts o;
    cairn_status rc = cn_cart_read_opts(ctx, p, data->d, data->task, "none", &o);
    if (rc != CAIRN_OK)
        return rc;
    size_t n = data->train.n;
    if (n == 0)
        return cn_fail(ctx, CAIRN_EINVAL, "tree: no training rows");
    size_t *rows = cn_xmalloc(n * sizeof *rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = i;
    tree *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_tree_ops;
    m->d = data->d;
    m->task = data->task;
    cn_rng rng;
    cn_rng_seed(&rng, data->seed ^ 0x74726565ULL); /* "tree" */
    size_t k = data->task == CN_TASK_CLASSIFICATION ? data->n_classes : 1;
    cn_cart_grow(&m->cart, &o, data->d, k, data->train.x, data->train.y, data->train.w, rows, n,
                 &rng);
    free(rows);
    *out = &m->base;
    return CAIRN_OK;
}

static cairn_status tree_predict(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                                 double *out)
{
    (void)ctx;
    const tree *m = (const tree *)l;
    size_t k = m->cart.n_out;
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * k, cn_cart_leaf(&m->cart, x + i * m->d), k * sizeof *out);
    return CAIRN_OK;
}

static void tree_save(const cn_learner *l, cn_buf *payload)
{
    const tree *m = (const tree *)l;
    cn_put_u64(payload, m->d);
    cn_cart_save(&m->cart, payload);
}

static cairn_status tree_load(cairn_ctx *ctx, const void *payload, size_t len, size_t d,
                              cn_task task, size_t n_classes, cn_learner **out)
{
    cn_reader r = {payload, len, 0, false};
    size_t k = task == CN_TASK_CLASSIFICATION ? n_classes : 1;
    tree *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_tree_ops;
    m->d = d;
    m->task = task;
    if (cn_get_u64(&r) != d || k == 0 || !cn_cart_load(&m->cart, &r, d, k) || r.pos != r.len) {
        cn_cart_release(&m->cart);
        free(m);
        return cn_fail(ctx, CAIRN_EINVAL, "tree payload: not a well-formed tree of %zu inputs", d);
    }
    *out = &m->base;
    return CAIRN_OK;
}

static void tree_free(cn_learner *l)
{
    tree *m = (tree *)l;
    if (!m)
        return;
    cn_cart_release(&m->cart);
    free(m);
}

static const cairn_param_spec tree_params[] = {
    CN_CART_SPEC_CRITERION,
    CN_CART_SPEC_MAX_DEPTH,
    CN_CART_SPEC_MIN_SPLIT,
    CN_CART_SPEC_MIN_LEAF,
    CN_CART_SPEC_MAX_FEATURES("none"),
    CN_CART_SPEC_MIN_DECREASE,
    CN_SPEC_TASK,
};

const cn_learner_ops cn_tree_ops = {
    .name = "tree",
    .params = tree_params,
    .n_params = CN_N_SPECS(tree_params),
    .tasks = CN_TASK_REGRESSION | CN_TASK_CLASSIFICATION,
    .standardize = false,
    .ordinal = true,
    .fit = tree_fit,
    .predict = tree_predict,
    .save = tree_save,
    .load = tree_load,
    .free = tree_free,
};
