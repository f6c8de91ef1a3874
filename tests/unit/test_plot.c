/* SPDX-License-Identifier: MIT */
/* test_plot.c - the SVG pictures: well-formed (balanced tags, quoted attributes, no raw '<' or
 * '&' in text), with their titles, axis labels, legend entries and ticks, and escaped text.
 * With CAIRN_PLOT_DIR set, also writes the pictures there to look at (rsvg-convert them). */
#include <ctype.h>
#include <stdint.h>
#include "cairn/eval.h"
#include "unit.h"
#include "base/banned.h"

/* A small XML well-formedness check: every element closed in order, attribute values quoted,
 * '&' only as an entity, a single root <svg>. Returns NULL or a description of the fault. */
static const char *xml_fault(const char *s)
{
    static char why[128];
    char stack[64][32];
    int depth = 0, roots = 0;
    const char *p = s;
    if (strncmp(p, "<?xml", 5) == 0) {
        p = strstr(p, "?>");
        if (!p)
            return "unterminated xml declaration";
        p += 2;
    }
    while (*p) {
        if (*p == '&') {
            const char *e = p + 1;
            while (isalnum((unsigned char)*e) || *e == '#')
                e++;
            if (*e != ';' || e == p + 1)
                return "bare '&'";
            p = e + 1;
            continue;
        }
        if (*p == '>')
            return "bare '>' in text";
        if (*p != '<') {
            p++;
            continue;
        }
        bool closing = p[1] == '/';
        const char *n = p + 1 + closing;
        size_t len = 0;
        while (isalnum((unsigned char)n[len]) || n[len] == '-' || n[len] == ':')
            len++;
        if (len == 0 || len >= 32)
            return "bad tag name";
        const char *q = n + len;
        bool self = false;
        while (*q && *q != '>') { /* attributes */
            if (*q == '"') {
                const char *e = strchr(q + 1, '"');
                if (!e)
                    return "unterminated attribute";
                for (const char *c = q + 1; c < e; c++)
                    if (*c == '<')
                        return "'<' inside an attribute";
                q = e + 1;
                continue;
            }
            if (*q == '=' && q[1] != '"')
                return "unquoted attribute";
            if (*q == '/' && q[1] == '>')
                self = true;
            q++;
        }
        if (!*q)
            return "unterminated tag";
        if (closing) {
            if (depth == 0 || strlen(stack[depth - 1]) != len ||
                strncmp(stack[depth - 1], n, len) != 0) {
                snprintf(why, sizeof why, "mismatched </%.*s>", (int)len, n);
                return why;
            }
            depth--;
        } else if (!self) {
            if (depth == 0)
                roots++;
            if (depth == 64)
                return "too deep";
            memcpy(stack[depth], n, len);
            stack[depth][len] = '\0';
            depth++;
        }
        p = q + 1;
    }
    if (depth != 0)
        return "unclosed element";
    if (roots != 1)
        return "not exactly one root";
    return NULL;
}

static void save(const char *name, const char *svg)
{
    const char *dir = getenv("CAIRN_PLOT_DIR");
    if (!dir || !svg)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.svg", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(svg, f);
        fclose(f);
    }
}

#define CHECK_SVG(svg)                                                                             \
    do {                                                                                           \
        const char *why_ = (svg) ? xml_fault(svg) : "null";                                        \
        if (why_) {                                                                                \
            unit_failed = 1;                                                                       \
            fprintf(stderr, "# %s:%d: svg not well-formed: %s\n", __FILE__, __LINE__, why_);       \
        }                                                                                          \
    } while (0)
#define CHECK_HAS(svg, needle) CHECK((svg) && strstr((svg), (needle)) != NULL)

TEST(xml_checker_catches_faults)
{
    CHECK(xml_fault("<svg><g></g></svg>") == NULL);
    CHECK(xml_fault("<svg><g></svg>") != NULL);
    CHECK(xml_fault("<svg><text>a<b</text></svg>") != NULL);
    CHECK(xml_fault("<svg><text>a & b</text></svg>") != NULL);
    CHECK(xml_fault("<svg x=1></svg>") != NULL);
    CHECK(xml_fault("<svg></svg><svg></svg>") != NULL);
}

TEST(learning_curves_two_panels)
{
    cairn_ctx *ctx = cairn_ctx_new();
    enum { E = 40 };
    double tl[E], vl[E], va[E];
    for (int i = 0; i < E; i++) {
        tl[i] = 1.2 * exp(-i / 9.0) + 0.08;
        vl[i] = 1.25 * exp(-i / 11.0) + 0.18 + (i > 25 ? (i - 25) * 0.008 : 0);
        va[i] = 0.95 - 0.5 * exp(-i / 8.0);
    }
    va[17] = NAN; /* a gap */
    cairn_plot_series s[] = {{"train loss", NULL, tl, E, 0},
                             {"val loss", NULL, vl, E, 0},
                             {"val accuracy", NULL, va, E, 1}};
    cairn_plot_opts o = CAIRN_PLOT_OPTS_INIT;
    o.title = "ResNet-18 <cifar10> & friends";
    o.y2_label = "Accuracy";
    char *svg = NULL;
    CHECK(cairn_plot_learning_curves(ctx, s, 3, &o, &svg) == CAIRN_OK);
    CHECK_SVG(svg);
    CHECK_HAS(svg, "ResNet-18 &lt;cifar10&gt; &amp; friends");
    CHECK(strstr(svg, "<cifar10>") == NULL);
    CHECK_HAS(svg, ">train loss</text>");
    CHECK_HAS(svg, ">val accuracy</text>");
    CHECK_HAS(svg, ">Epoch</text>");
    CHECK_HAS(svg, ">Loss</text>");
    CHECK_HAS(svg, ">Accuracy</text>");
    CHECK_HAS(svg, ">40</text>"); /* a round tick at the last epoch */
    CHECK_HAS(svg, "class=\"legend\"");
    save("learning_curves", svg);
    cairn_free(svg);
    cairn_plot_series one[] = {{"loss", NULL, tl, E, 0}};
    CHECK(cairn_plot_learning_curves(ctx, one, 1, NULL, &svg) == CAIRN_OK);
    CHECK_SVG(svg);
    save("learning_curve_one", svg);
    cairn_free(svg);
    cairn_plot_series bad[] = {{"x", NULL, tl, E, 2}};
    CHECK(cairn_plot_learning_curves(ctx, bad, 1, NULL, &svg) == CAIRN_EINVAL);
    CHECK(svg == NULL);
    CHECK(cairn_plot_learning_curves(ctx, NULL, 0, NULL, &svg) == CAIRN_EINVAL);
    cairn_close(ctx);
}

TEST(confusion_matrix_heat_map)
{
    cairn_ctx *ctx = cairn_ctx_new();
    int64_t cm[] = {50, 3, 2, 0, 4, 30, 6, 0, 1, 5, 20, 0, 2, 1, 9, 0};
    const char *labels[] = {"cat", "dog", "bird & <fish>", "never"};
    char *svg = NULL;
    CHECK(cairn_plot_confusion_matrix(ctx, cm, 4, labels, NULL, &svg) == CAIRN_OK);
    CHECK_SVG(svg);
    CHECK_HAS(svg, ">Confusion matrix</text>");
    CHECK_HAS(svg, ">Predicted label</text>");
    CHECK_HAS(svg, ">True label</text>");
    CHECK_HAS(svg, "bird &amp; &lt;fish&gt;");
    CHECK_HAS(svg, ">50</text>");
    CHECK_HAS(svg, ">90.9%</text>"); /* 50 / 55 */
    CHECK_HAS(svg, ">100%</text>");  /* colour bar */
    save("confusion_matrix", svg);
    cairn_free(svg);
    /* many classes: no per-cell text, still well-formed */
    enum { K = 40 };
    int64_t *big = calloc(K * K, sizeof *big);
    for (int i = 0; i < K * K; i++)
        big[i] = (i % (K + 1) == 0) ? 20 : i % 3;
    CHECK(cairn_plot_confusion_matrix(ctx, big, K, NULL, NULL, &svg) == CAIRN_OK);
    CHECK_SVG(svg);
    save("confusion_matrix_40", svg);
    cairn_free(svg);
    free(big);
    int64_t neg[] = {1, -1, 0, 1};
    CHECK(cairn_plot_confusion_matrix(ctx, neg, 2, NULL, NULL, &svg) == CAIRN_EINVAL);
    cairn_close(ctx);
}

/* A separable-ish binary problem for the curve pictures. */
static void scores(int32_t *y, double *p, size_t n, double sep)
{
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(s >> 11) / 9007199254740992.0;
        y[i] = i % 3 == 0;
        double z = (y[i] ? sep : -sep) + 2.0 * (u - 0.5) * 2.2;
        p[i] = 1 / (1 + exp(-z));
    }
}

TEST(roc_pr_and_calibration)
{
    cairn_ctx *ctx = cairn_ctx_new();
    enum { N = 300 };
    int32_t y[N];
    double p1[N], p2[N];
    scores(y, p1, N, 1.2);
    scores(y, p2, N, 0.5);
    cairn_curve roc[2], pr[2], cal[2];
    double auc[2], ap[2], prev[2] = {100.0 / N, 100.0 / N};
    const double *ps[2] = {p1, p2};
    for (int m = 0; m < 2; m++) {
        CHECK(cairn_eval_roc_curve(ctx, y, ps[m], N, &roc[m]) == CAIRN_OK);
        CHECK(cairn_eval_roc_auc_binary(ctx, y, ps[m], N, &auc[m]) == CAIRN_OK);
        CHECK(cairn_eval_pr_curve(ctx, y, ps[m], N, &pr[m]) == CAIRN_OK);
        CHECK(cairn_eval_average_precision(ctx, y, ps[m], N, &ap[m]) == CAIRN_OK);
        CHECK(cairn_eval_calibration_curve(ctx, y, ps[m], N, 10, CAIRN_CALIBRATION_UNIFORM,
                                           &cal[m]) == CAIRN_OK);
    }
    const char *names[] = {"gbm \"v2\"", "logreg"};
    char *svg = NULL, want[64];
    CHECK(cairn_plot_roc(ctx, roc, names, auc, 2, NULL, &svg) == CAIRN_OK);
    CHECK_SVG(svg);
    CHECK_HAS(svg, ">ROC curve</text>");
    CHECK_HAS(svg, ">False positive rate</text>");
    CHECK_HAS(svg, ">True positive rate</text>");
    snprintf(want, sizeof want, "gbm &quot;v2&quot; (AUC = %.3f)", auc[0]);
    CHECK_HAS(svg, want);
    CHECK_HAS(svg, "Chance (AUC = 0.5)");
    CHECK_HAS(svg, ">0.2</text>");
    CHECK_HAS(svg, ">1.0</text>");
    save("roc", svg);
    cairn_free(svg);
    CHECK(cairn_plot_pr(ctx, pr, names, ap, prev, 2, NULL, &svg) == CAIRN_OK);
    CHECK_SVG(svg);
    snprintf(want, sizeof want, "logreg (AP = %.3f)", ap[1]);
    CHECK_HAS(svg, want);
    CHECK_HAS(svg, ">Recall</text>");
    CHECK_HAS(svg, ">Precision</text>");
    save("pr", svg);
    cairn_free(svg);
    CHECK(cairn_plot_calibration(ctx, cal, names, 2, NULL, &svg) == CAIRN_OK);
    CHECK_SVG(svg);
    CHECK_HAS(svg, "Perfectly calibrated");
    CHECK_HAS(svg, ">Fraction of positives</text>");
    save("calibration", svg);
    cairn_free(svg);
    for (int m = 0; m < 2; m++) {
        cairn_curve_release(&roc[m]);
        cairn_curve_release(&pr[m]);
        cairn_curve_release(&cal[m]);
    }
    CHECK(cairn_plot_roc(ctx, NULL, NULL, NULL, 0, NULL, &svg) == CAIRN_EINVAL);
    cairn_close(ctx);
}

TEST(optimization_history)
{
    cairn_ctx *ctx = cairn_ctx_new();
    enum { T = 60 };
    double obj[T];
    for (int i = 0; i < T; i++)
        obj[i] = 0.3 + 0.5 * exp(-i / 20.0) * (1 + sin(i * 1.7)) / 2 + (i % 7) * 0.01;
    obj[5] = NAN; /* a failed trial */
    char *svg = NULL;
    cairn_plot_opts o = CAIRN_PLOT_OPTS_INIT;
    o.y_label = "val_loss";
    CHECK(cairn_plot_optimization_history(ctx, obj, T, false, &o, &svg) == CAIRN_OK);
    CHECK_SVG(svg);
    CHECK_HAS(svg, ">Optimization history</text>");
    CHECK_HAS(svg, ">Best value (min)</text>");
    CHECK_HAS(svg, ">Objective value</text>");
    CHECK_HAS(svg, ">val_loss</text>");
    CHECK_HAS(svg, ">Trial</text>");
    save("optimization_history", svg);
    cairn_free(svg);
    double one = 3.0;
    CHECK(cairn_plot_optimization_history(ctx, &one, 1, true, NULL, &svg) == CAIRN_OK);
    CHECK_SVG(svg);
    cairn_free(svg);
    cairn_close(ctx);
}

TEST(predicted_vs_true)
{
    cairn_ctx *ctx = cairn_ctx_new();
    enum { N = 80 };
    double t[N], p[N];
    for (int i = 0; i < N; i++) {
        t[i] = 25.0 + 3.0 * i;
        p[i] = t[i] + 20.0 * sin(i * 0.9);
    }
    p[3] = NAN; /* not drawn */
    char *svg = NULL;
    CHECK(cairn_plot_predicted_vs_true(ctx, t, p, N, NULL, &svg) == CAIRN_OK);
    CHECK_SVG(svg);
    CHECK_HAS(svg, ">Predicted vs true</text>");
    CHECK_HAS(svg, ">True value</text>");
    CHECK_HAS(svg, ">Predicted value</text>");
    CHECK_HAS(svg, ">Perfect prediction</text>");
    /* one dot per finite point, besides the legend's marker */
    size_t dots = 0;
    for (const char *q = svg; (q = strstr(q, "<circle")) != NULL; q++)
        dots++;
    CHECK(dots == N - 1 + 1);
    save("predicted_vs_true", svg);
    cairn_free(svg);
    CHECK(cairn_plot_predicted_vs_true(ctx, t, p, 0, NULL, &svg) == CAIRN_EINVAL);
    double nan2[2] = {NAN, NAN};
    CHECK(cairn_plot_predicted_vs_true(ctx, nan2, nan2, 2, NULL, &svg) == CAIRN_EINVAL);
    CHECK(svg == NULL);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(xml_checker_catches_faults), UNIT_CASE(learning_curves_two_panels),
          UNIT_CASE(confusion_matrix_heat_map), UNIT_CASE(roc_pr_and_calibration),
          UNIT_CASE(optimization_history), UNIT_CASE(predicted_vs_true))
