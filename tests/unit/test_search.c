/* SPDX-License-Identifier: MIT */
/* test_search.c - cairn_runs_search and cairn_experiments_search on a real store: filters
 * with OR and parentheses, order_by with missing values last, paging, views, bad filters. */
#include <math.h>
#include "unit.h"
#include "store_fixture.h"

static cairn_ctx *ctx;
static char *exp_id;
static char run_ids[6][33];

/* Six runs: acc = 0.1 .. 0.5 and one NaN, params opt alternate, tag grp on some. */
static void seed(void)
{
    ctx = fixture_open();
    CHECK(cairn_experiment_create(ctx, fixture_name("search"), NULL, NULL, 0, &exp_id) == CAIRN_OK);
    for (int i = 0; i < 6; i++) {
        cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
        char name[32];
        snprintf(name, sizeof name, "run-%d", i);
        o.experiment_id = exp_id;
        o.name = name;
        o.start_ms = 1000 + i;
        cairn_run *run = NULL;
        CHECK(cairn_run_start(ctx, &o, &run) == CAIRN_OK);
        snprintf(run_ids[i], sizeof run_ids[i], "%s", cairn_run_id(run));
        if (i < 5) {
            cairn_metric m = {"val/acc", 0.1 * (i + 1), 0, 0};
            CHECK(cairn_run_log_batch(run, &m, 1, NULL, 0, NULL, 0) == CAIRN_OK);
        } else {
            cairn_metric m = {"val/acc", NAN, 0, 0};
            CHECK(cairn_run_log_batch(run, &m, 1, NULL, 0, NULL, 0) == CAIRN_OK);
        }
        CHECK(cairn_run_log_param(run, "opt", i % 2 ? "Adam" : "sgd") == CAIRN_OK);
        if (i == 1 || i == 4)
            CHECK(cairn_run_set_tag(run, "grp", "g1") == CAIRN_OK);
        CHECK(cairn_run_finish(run, i == 3 ? CAIRN_RUN_FAILED : CAIRN_RUN_FINISHED) == CAIRN_OK);
        cairn_run_free(run);
    }
}

/* Runs the search and returns a bitmask of which seeded runs came back, in order in `order`. */
static int search(const char *filter, const char *const *order_by, size_t n_order, int *order)
{
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    const char *ids[] = {exp_id};
    q.experiment_ids = ids;
    q.n_experiment_ids = 1;
    q.filter = filter;
    q.order_by = order_by;
    q.n_order_by = n_order;
    cairn_run_page *page = NULL;
    if (cairn_runs_search(ctx, &q, &page) != CAIRN_OK) {
        fprintf(stderr, "# search failed: %s\n", cairn_errmsg(ctx));
        return -1;
    }
    int mask = 0;
    for (size_t k = 0; k < page->n; k++)
        for (int i = 0; i < 6; i++)
            if (strcmp(page->items[k].info.run_id, run_ids[i]) == 0) {
                mask |= 1 << i;
                if (order)
                    order[k] = i;
            }
    cairn_run_page_free(page);
    return mask;
}

TEST(filters)
{
    seed();
    CHECK(search("metrics.`val/acc` > 0.25", NULL, 0, NULL) == 0x1c);
    CHECK(search("metrics.`val/acc` <= 0.2", NULL, 0, NULL) == 0x03);
    CHECK(search("params.opt = 'Adam'", NULL, 0, NULL) == 0x2a);
    CHECK(search("params.opt ILIKE 'adam'", NULL, 0, NULL) == 0x2a);
    CHECK(search("params.opt LIKE 'adam'", NULL, 0, NULL) == 0);
    CHECK(search("tags.grp = 'g1' AND metrics.`val/acc` > 0.3", NULL, 0, NULL) == 0x10);
    CHECK(search("tags.grp = 'g1' OR attributes.status = 'FAILED'", NULL, 0, NULL) == 0x1a);
    CHECK(search("(params.opt = 'sgd' OR tags.grp = 'g1') AND metrics.`val/acc` >= 0.3", NULL, 0,
                 NULL) == 0x14);
    CHECK(search("attributes.run_name IN ('run-0', 'run-5')", NULL, 0, NULL) == 0x21);
    CHECK(search("", NULL, 0, NULL) == 0x3f);
}

TEST(order_missing_last_and_nan)
{
    int order[6];
    const char *desc[] = {"metrics.`val/acc` DESC"};
    CHECK(search(NULL, desc, 1, order) == 0x3f);
    CHECK(order[0] == 4 && order[1] == 3 && order[4] == 0 && order[5] == 5);
    const char *asc[] = {"metrics.`val/acc` ASC"};
    CHECK(search(NULL, asc, 1, order) == 0x3f);
    CHECK(order[0] == 0 && order[4] == 4 && order[5] == 5);
    const char *by_tag[] = {"tags.grp ASC"};
    CHECK(search(NULL, by_tag, 1, order) == 0x3f);
    CHECK((order[0] == 4 || order[0] == 1) && (order[1] == 4 || order[1] == 1));
    /* default order: newest start first */
    CHECK(search(NULL, NULL, 0, order) == 0x3f);
    CHECK(order[0] == 5 && order[5] == 0);
}

/* Pages of 2 walk the index fast path while a row lies beyond the page and fall back to the
 * general query at the end; the concatenation must equal the one-page order. */
TEST(paged_order_matches_full_order)
{
    const char *keys[] = {"metrics.`val/acc` DESC", "metrics.`val/acc` ASC", "params.opt DESC",
                          "tags.grp ASC"};
    for (size_t k = 0; k < 4; k++) {
        int full[6];
        CHECK(search(NULL, &keys[k], 1, full) == 0x3f);
        cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
        const char *ids[] = {exp_id};
        q.experiment_ids = ids;
        q.n_experiment_ids = 1;
        q.order_by = &keys[k];
        q.n_order_by = 1;
        q.max_results = 2;
        char token[64] = "";
        int got = 0;
        for (int pageno = 0; pageno < 5; pageno++) {
            q.page_token = token[0] ? token : NULL;
            cairn_run_page *page = NULL;
            CHECK(cairn_runs_search(ctx, &q, &page) == CAIRN_OK);
            for (size_t i = 0; i < page->n && got < 6; i++, got++)
                CHECK(strcmp(page->items[i].info.run_id, run_ids[full[got]]) == 0);
            bool last = page->next_page_token == NULL;
            if (!last)
                snprintf(token, sizeof token, "%s", page->next_page_token);
            cairn_run_page_free(page);
            if (last)
                break;
        }
        CHECK(got == 6);
    }
}

TEST(paging)
{
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    const char *ids[] = {exp_id};
    q.experiment_ids = ids;
    q.n_experiment_ids = 1;
    q.max_results = 4;
    cairn_run_page *page = NULL;
    CHECK(cairn_runs_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 4 && page->next_page_token);
    char token[64];
    snprintf(token, sizeof token, "%s", page->next_page_token);
    cairn_run_page_free(page);
    q.page_token = token;
    CHECK(cairn_runs_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 2 && page->next_page_token == NULL);
    CHECK(page->items[0].n_params == 1);
    cairn_run_page_free(page);
    q.page_token = "not-a-token";
    CHECK(cairn_runs_search(ctx, &q, &page) == CAIRN_EINVAL);
    q.page_token = NULL;
    q.max_results = 50001;
    CHECK(cairn_runs_search(ctx, &q, &page) == CAIRN_EINVAL);
}

TEST(bad_filters_name_the_token)
{
    CHECK(search("metrics.acc >> 1", NULL, 0, NULL) == -1);
    CHECK(strstr(cairn_errmsg(ctx), ">") != NULL);
    CHECK(search("params.opt > 'a'", NULL, 0, NULL) == -1);
    CHECK(strstr(cairn_errmsg(ctx), ">") != NULL);
    CHECK(search("metrics.acc > 1 AND (tags.x = 'y'", NULL, 0, NULL) == -1);
    CHECK(search("bogus.key = 'x'", NULL, 0, NULL) == -1);
    CHECK(strstr(cairn_errmsg(ctx), "bogus") != NULL);
    CHECK(search("params.opt = 'x'; DROP TABLE runs", NULL, 0, NULL) == -1);
    CHECK(search(NULL, NULL, 0, NULL) == 0x3f); /* the table is still there */
}

TEST(views_and_experiment_search)
{
    CHECK(cairn_run_delete(ctx, run_ids[0]) == CAIRN_OK);
    CHECK(search(NULL, NULL, 0, NULL) == 0x3e);
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    const char *ids[] = {exp_id};
    q.experiment_ids = ids;
    q.n_experiment_ids = 1;
    q.view = CAIRN_VIEW_DELETED_ONLY;
    cairn_run_page *page = NULL;
    CHECK(cairn_runs_search(ctx, &q, &page) == CAIRN_OK);
    CHECK(page->n == 1 && strcmp(page->items[0].info.run_id, run_ids[0]) == 0);
    cairn_run_page_free(page);
    CHECK(cairn_run_restore(ctx, run_ids[0]) == CAIRN_OK);

    cairn_experiment *exp = NULL;
    CHECK(cairn_experiment_get(ctx, exp_id, &exp) == CAIRN_OK);
    char filter[300];
    snprintf(filter, sizeof filter, "name = '%s'", exp->name);
    cairn_experiment_search eq = CAIRN_EXPERIMENT_SEARCH_INIT;
    eq.filter = filter;
    cairn_experiment_page *ep = NULL;
    CHECK(cairn_experiments_search(ctx, &eq, &ep) == CAIRN_OK);
    CHECK(ep->n == 1 && strcmp(ep->items[0].experiment_id, exp_id) == 0);
    cairn_experiment_page_free(ep);
    eq.filter = "name LIKE 'search-%'";
    const char *ord[] = {"name ASC"};
    eq.order_by = ord;
    eq.n_order_by = 1;
    CHECK(cairn_experiments_search(ctx, &eq, &ep) == CAIRN_OK);
    CHECK(ep->n >= 1);
    cairn_experiment_page_free(ep);
    cairn_experiment_free(exp);
    cairn_free(exp_id);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(filters), UNIT_CASE(order_missing_last_and_nan),
          UNIT_CASE(paged_order_matches_full_order), UNIT_CASE(paging),
          UNIT_CASE(bad_filters_name_the_token), UNIT_CASE(views_and_experiment_search))
