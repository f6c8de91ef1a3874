/* SPDX-License-Identifier: MIT */
/* test_gates.c - promotion gates through the library: the drift-reference gate on model files
 * with and without a reference (no cairn command writes one without), --force with and
 * without a reason, the promotion: config reader and its messages, the card completeness
 * rule. The e2e tests (tests/e2e/test_promote_gates.py) cover the other gates' cases. */
#include "cairn/data.h"
#include "cairn/drift.h"
#include "cairn/learn.h"
#include "cairn/registry.h"
#include "store_fixture.h"
#include "unit.h"

static const cairn_gate_result *gate(const cairn_promotion *p, const char *name)
{
    for (size_t i = 0; i < p->n_gates; i++)
        if (strcmp(p->gates[i].gate, name) == 0)
            return &p->gates[i];
    return NULL;
}

/* A fitted logistic model on 40 rows of x -> y, saved to path; with_reference attaches a drift
 * reference of its rows first. */
static void write_model(cairn_ctx *ctx, const char *path, bool with_reference)
{
    double x[40];
    int32_t y[40];
    for (int i = 0; i < 40; i++) {
        x[i] = i;
        y[i] = i >= 20;
    }
    const char *levels[] = {"no", "yes"};
    cairn_table *t = cairn_table_new(40);
    CHECK(cairn_table_add_numeric(ctx, t, "x", x) == CAIRN_OK);
    CHECK(cairn_table_add_categorical(ctx, t, "y", y, levels, 2) == CAIRN_OK);
    cairn_fit_opts o = CAIRN_FIT_OPTS_INIT;
    o.learner = "logistic";
    o.label = "y";
    cairn_model *m = NULL;
    CHECK(cairn_model_fit(ctx, t, &o, &m) == CAIRN_OK);
    if (with_reference) {
        cairn_drift_reference_opts ro = CAIRN_DRIFT_REFERENCE_OPTS_INIT;
        ro.model = m;
        cairn_drift_reference *r = NULL;
        CHECK(cairn_drift_reference_build(ctx, t, &ro, &r) == CAIRN_OK);
        CHECK(cairn_drift_reference_attach(ctx, m, r) == CAIRN_OK);
        cairn_drift_reference_free(r);
    }
    CHECK(cairn_model_save(ctx, m, path) == CAIRN_OK);
    cairn_model_free(m);
    cairn_table_free(t);
}

TEST(drift_reference_gate_and_force)
{
    cairn_ctx *ctx = fixture_open();
    const char *name = fixture_name("gates");
    char bare[300], ref[300];
    snprintf(bare, sizeof bare, "%s/bare.cairn", fixture_dir);
    snprintf(ref, sizeof ref, "%s/ref.cairn", fixture_dir);
    write_model(ctx, bare, false);
    write_model(ctx, ref, true);
    CHECK(cairn_registry_create_model(ctx, name, NULL, NULL, 0) == CAIRN_OK);
    cairn_model_version_opts vo = CAIRN_MODEL_VERSION_OPTS_INIT;
    vo.name = name;
    vo.source = bare;
    CHECK(cairn_model_version_create(ctx, &vo, NULL) == CAIRN_OK);
    vo.source = ref;
    CHECK(cairn_model_version_create(ctx, &vo, NULL) == CAIRN_OK);

    cairn_promote_opts po = CAIRN_PROMOTE_OPTS_INIT;
    po.alias = "production";
    cairn_promotion *p = NULL;
    CHECK(cairn_registry_promote(ctx, name, 1, &po, &p) == CAIRN_EINVAL);
    CHECK(p && !p->promoted);
    const cairn_gate_result *g = p ? gate(p, "drift_reference") : NULL;
    CHECK(g && g->verdict == CAIRN_GATE_FAIL);
    CHECK(g && strstr(g->evidence, "holds no drift reference") && strstr(g->evidence, bare));
    CHECK(g && g->fix && strstr(g->fix, "cairn drift reference --data"));
    CHECK(strstr(cairn_errmsg(ctx), "drift_reference"));
    /* a version without a run fails the run's gates, each saying so */
    g = p ? gate(p, "test_look") : NULL;
    CHECK(g && g->verdict == CAIRN_GATE_FAIL && strstr(g->evidence, "has no run"));
    cairn_promotion_free(p);

    p = NULL;
    CHECK(cairn_registry_promote(ctx, name, 2, &po, &p) == CAIRN_EINVAL);
    g = p ? gate(p, "drift_reference") : NULL;
    CHECK(g && g->verdict == CAIRN_GATE_PASS && strstr(g->evidence, "40 rows"));
    CHECK(g && g->fix == NULL);
    cairn_promotion_free(p);

    /* --force needs a reason, and then records the override */
    po.force = true;
    p = NULL;
    CHECK(cairn_registry_promote(ctx, name, 2, &po, &p) == CAIRN_EINVAL);
    CHECK(p == NULL && strstr(cairn_errmsg(ctx), "--reason"));
    po.reason = "unit test";
    CHECK(cairn_registry_promote(ctx, name, 2, &po, &p) == CAIRN_OK);
    CHECK(p && p->promoted && p->forced && p->from_version == 0);
    cairn_promotion_free(p);
    cairn_model_version *v = NULL;
    CHECK(cairn_model_version_get_by_alias(ctx, name, "production", &v) == CAIRN_OK);
    CHECK(v && v->version == 2);
    cairn_model_version_free(v);
    cairn_registry_history_query q = CAIRN_REGISTRY_HISTORY_QUERY_INIT;
    q.name = name;
    cairn_registry_event_page *h = NULL;
    CHECK(cairn_registry_history(ctx, &q, &h) == CAIRN_OK);
    CHECK(h && h->n == 1);
    if (h && h->n == 1) {
        CHECK(strstr(h->items[0].reason, "drift_reference PASS"));
        CHECK(strstr(h->items[0].reason, "FORCED past model_card, test_look, overlap: unit test"));
    }
    cairn_registry_event_page_free(h);
    /* an unknown version and a bad alias */
    po.force = false;
    p = NULL;
    CHECK(cairn_registry_promote(ctx, name, 9, &po, &p) == CAIRN_ENOTFOUND && !p);
    po.alias = "v3";
    CHECK(cairn_registry_promote(ctx, name, 2, &po, &p) == CAIRN_EINVAL && !p);
    cairn_promotion_free(NULL);
    cairn_close(ctx);
}

TEST(policy_reader)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_promotion_policy *p = NULL;
    const char *ok = "name: x\npromotion:\n  min_metric: {val_accuracy: 0.9, f1: 0.5}\n"
                     "  max_p99_ms: 2.5\n  max_size_bytes: 1000\n";
    CHECK(cairn_promotion_policy_parse(ctx, ok, strlen(ok), &p) == CAIRN_OK);
    CHECK(p && p->found && p->n_min_metric == 2);
    if (p && p->n_min_metric == 2) {
        CHECK_STR(p->min_metric[0].metric, "val_accuracy");
        CHECK_NEAR(p->min_metric[0].min, 0.9, 0);
        CHECK_STR(p->min_metric[1].metric, "f1");
        CHECK_NEAR(p->max_p99_ms, 2.5, 0);
        CHECK(p->max_size_bytes == 1000);
    }
    cairn_promotion_policy_free(p);
    CHECK(cairn_promotion_policy_parse(ctx, "seed: 1\n", 8, &p) == CAIRN_OK);
    CHECK(p && !p->found && p->n_min_metric == 0 && p->max_p99_ms == 0);
    cairn_promotion_policy_free(p);
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"promotion: 3\n", "promotion must be a mapping"},
        {"promotion:\n  min_metric: [a]\n", "line 2"},
        {"promotion:\n  min_metric: {a: x}\n", "promotion.min_metric.a must be a finite number"},
        {"promotion:\n  min_metric: {a: .nan}\n", "must be a finite number"},
        {"promotion:\n  max_p99_ms: -1\n", "promotion.max_p99_ms must be a positive number"},
        {"promotion:\n  max_size_bytes: 0\n", "promotion.max_size_bytes"},
        {"promotion:\n  max_p99: 1\n", "unknown key 'promotion.max_p99'"},
        {"promotion:\n  min_metric: {a: 1, a: 2}\n", "a"},
        {"- 1\n", "expected a mapping"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        p = NULL;
        cairn_status rc = cairn_promotion_policy_parse(ctx, bad[i].text, strlen(bad[i].text), &p);
        CHECK(rc == CAIRN_EINVAL && p == NULL);
        if (!strstr(cairn_errmsg(ctx), bad[i].msg)) {
            fprintf(stderr, "# case %zu: '%s' lacks '%s'\n", i, cairn_errmsg(ctx), bad[i].msg);
            CHECK(0);
        }
    }
    CHECK(cairn_promotion_policy_load(ctx, "/nonexistent/x.yaml", &p) == CAIRN_ENOTFOUND);
    cairn_promotion_policy_free(NULL);
    cairn_close(ctx);
}

TEST(card_completeness)
{
    char missing[200];
    CHECK(!cairn_model_card_check(NULL, missing, sizeof missing));
    CHECK_STR(missing, "Intended use, Assumptions, Limitations, Ethical considerations");
    const char *full = "# t\n## Intended use\nA.\n## Assumptions\nB.\n### sub\nC.\n"
                       "## LIMITATIONS\nD.\n## Ethical considerations\nE.\n";
    CHECK(cairn_model_card_check(full, missing, sizeof missing));
    CHECK_STR(missing, "");
    const char *comment = "## Intended use\n<!-- fill me -->\n## Assumptions\nB\n"
                          "## Limitations\nTODO later\n## Ethical considerations\n\n";
    CHECK(!cairn_model_card_check(comment, missing, sizeof missing));
    CHECK_STR(missing, "Intended use, Limitations, Ethical considerations");
    /* a heading must have a space after its #s and is matched whole */
    CHECK(!cairn_model_card_check("##Intended use\nA\n## Intended uses\nA\n", NULL, 0));
    CHECK_STR(cairn_gate_verdict_str(CAIRN_GATE_SKIP), "SKIP");
    CHECK(cairn_gate_verdict_str((cairn_gate_verdict)9) == NULL);
    cairn_model_card_free(NULL);
}

UNIT_MAIN(UNIT_CASE(drift_reference_gate_and_force), UNIT_CASE(policy_reader),
          UNIT_CASE(card_completeness))
