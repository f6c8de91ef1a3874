/* SPDX-License-Identifier: MIT */
/* test_store_batches.c - cairn_runs_log_batches, the group commit: good and bad batches mixed
 * in one call each get their own status, a failed batch stores nothing of itself and nothing
 * of it leaks into the others, retries store each point once, and a store that fails any one
 * call midway still leaves each batch whole or absent, on SQLite and PostgreSQL. */
#include "unit.h"
#include "store_fixture.h"
#include "store/db_faulty.h"

static char *new_run(cairn_ctx *ctx, const char *exp)
{
    cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
    o.experiment = exp;
    char *id = NULL;
    if (cairn_runs_create(ctx, &o, &id) != CAIRN_OK)
        fprintf(stderr, "# runs_create: %s\n", cairn_errmsg(ctx));
    return id;
}

/* The number of points of (run, key), -1 on failure; *sum_steps adds their steps. */
static long n_points(cairn_ctx *ctx, const char *run_id, const char *key, long *sum_steps)
{
    cairn_metric_page *page = NULL;
    if (cairn_run_metric_history(ctx, run_id, key, NULL, 0, &page) != CAIRN_OK) {
        fprintf(stderr, "# history: %s\n", cairn_errmsg(ctx));
        return -1;
    }
    long n = (long)page->n, sum = 0;
    for (size_t i = 0; i < page->n; i++)
        sum += (long)page->items[i].step;
    if (sum_steps)
        *sum_steps = sum;
    cairn_metric_page_free(page);
    return n;
}

static const char *param_of(cairn_ctx *ctx, const char *run_id, const char *key, char *buf,
                            size_t len)
{
    cairn_run_record *rec = NULL;
    buf[0] = '\0';
    if (cairn_run_get(ctx, run_id, &rec) != CAIRN_OK)
        return NULL;
    const char *out = NULL;
    for (size_t i = 0; i < rec->n_params; i++)
        if (strcmp(rec->params[i].key, key) == 0) {
            snprintf(buf, len, "%s", rec->params[i].value);
            out = buf;
        }
    cairn_run_record_free(rec);
    return out;
}

/* Good and bad batches in one call: unknown run, deleted run, invalid key, a param that would
 * change, and a bad batch that also carries good points; each gets its own answer. */
TEST(test_mixed_batches)
{
    cairn_ctx *ctx = fixture_open();
    const char *exp = fixture_name("batches");
    char *a = new_run(ctx, exp), *b = new_run(ctx, exp), *gone = new_run(ctx, exp);
    CHECK(a && b && gone);
    CHECK(cairn_run_delete(ctx, gone) == CAIRN_OK);
    CHECK(cairn_runs_set_tag(ctx, a, "seed", "1") == CAIRN_OK);
    cairn_param p_old = {"lr", "0.1"};
    CHECK(cairn_runs_log_batch(ctx, a, NULL, 0, &p_old, 1, NULL, 0) == CAIRN_OK);

    cairn_metric m1[] = {{"loss", 1.0, 1000, 1}, {"loss", 0.5, 1000, 2}};
    cairn_metric m2[] = {{"acc", 0.9, 1000, 7}};
    cairn_metric bad_key[] = {{"../x", 1.0, 1000, 1}};
    cairn_metric m_lost[] = {{"lost", 3.0, 1000, 1}};
    cairn_param p_new = {"lr", "0.2"};
    cairn_tag t = {"phase", "train"};
    cairn_run_batch in[6] = {
        {.run_id = a, .metrics = m1, .n_metrics = 2, .tags = &t, .n_tags = 1},
        {.run_id = "0123456789abcdef0123456789abcdef", .metrics = m2, .n_metrics = 1},
        {.run_id = gone, .metrics = m2, .n_metrics = 1},
        {.run_id = b, .metrics = bad_key, .n_metrics = 1},
        /* Good points with a param that would change: nothing of it is stored. */
        {.run_id = a, .metrics = m_lost, .n_metrics = 1, .params = &p_new, .n_params = 1},
        {.run_id = b, .metrics = m2, .n_metrics = 1},
    };
    cairn_status each[6];
    char *msgs[6];
    cairn_status rc = cairn_runs_log_batches(ctx, in, 6, each, msgs);
    CHECK(rc == CAIRN_ENOTFOUND); /* the first failure, batch 1 */
    CHECK(strstr(cairn_errmsg(ctx), "4 of 6 batches failed") != NULL);
    CHECK(each[0] == CAIRN_OK && msgs[0] == NULL);
    CHECK(each[1] == CAIRN_ENOTFOUND && msgs[1] && strstr(msgs[1], "no run"));
    CHECK(each[2] == CAIRN_EINVAL && msgs[2] && strstr(msgs[2], "deleted"));
    CHECK(each[3] == CAIRN_EINVAL && msgs[3] != NULL);
    CHECK(each[4] == CAIRN_EINVAL && msgs[4] && strstr(msgs[4], "write-once"));
    CHECK(each[5] == CAIRN_OK && msgs[5] == NULL);
    for (int i = 0; i < 6; i++)
        cairn_free(msgs[i]);

    CHECK(n_points(ctx, a, "loss", NULL) == 2);
    CHECK(n_points(ctx, a, "lost", NULL) == 0);
    CHECK(n_points(ctx, b, "acc", NULL) == 1);
    CHECK(n_points(ctx, b, "../x", NULL) == -1); /* an invalid key is refused on read too */
    char buf[64];
    CHECK_STR(param_of(ctx, a, "lr", buf, sizeof buf), "0.1");
    cairn_run_record *rec = NULL;
    CHECK(cairn_run_get(ctx, a, &rec) == CAIRN_OK);
    CHECK_STR(fixture_tag(rec, "phase"), "train");
    CHECK_STR(fixture_tag(rec, "seed"), "1");
    /* The latest value of a key comes from the batches that were kept. */
    bool saw_loss = false, saw_lost = false;
    for (size_t i = 0; i < rec->n_metrics; i++) {
        if (strcmp(rec->metrics[i].key, "loss") == 0) {
            saw_loss = true;
            CHECK(rec->metrics[i].step == 2 && rec->metrics[i].value == 0.5);
        }
        saw_lost |= strcmp(rec->metrics[i].key, "lost") == 0;
    }
    CHECK(saw_loss && !saw_lost);
    cairn_run_record_free(rec);
    cairn_free(a);
    cairn_free(b);
    cairn_free(gone);
    cairn_close(ctx);
}

/* The same call sent again (a client's retry after a lost answer) stores every point once;
 * messages may be NULL. */
TEST(test_retries_store_once)
{
    cairn_ctx *ctx = fixture_open();
    const char *exp = fixture_name("retries");
    enum { N_RUNS = 5, N_BATCHES = 60, N_POINTS = 20 };
    char *runs[N_RUNS];
    for (int r = 0; r < N_RUNS; r++)
        runs[r] = new_run(ctx, exp);
    static cairn_metric points[N_BATCHES][N_POINTS];
    cairn_run_batch in[N_BATCHES];
    cairn_param same = {"model", "mlp"};
    for (int i = 0; i < N_BATCHES; i++) {
        for (int k = 0; k < N_POINTS; k++)
            points[i][k] = (cairn_metric){"loss", 1.0 / (1 + i * N_POINTS + k), 1000 + i,
                                          (int64_t)i * N_POINTS + k};
        in[i] = (cairn_run_batch){.run_id = runs[i % N_RUNS],
                                  .metrics = points[i],
                                  .n_metrics = N_POINTS,
                                  .params = &same,
                                  .n_params = 1};
    }
    cairn_status each[N_BATCHES];
    for (int attempt = 0; attempt < 3; attempt++) {
        CHECK(cairn_runs_log_batches(ctx, in, N_BATCHES, each, NULL) == CAIRN_OK);
        for (int i = 0; i < N_BATCHES; i++)
            CHECK(each[i] == CAIRN_OK);
    }
    for (int r = 0; r < N_RUNS; r++) {
        long sum = 0, want = 0;
        for (int i = r; i < N_BATCHES; i += N_RUNS)
            for (int k = 0; k < N_POINTS; k++)
                want += (long)i * N_POINTS + k;
        CHECK(n_points(ctx, runs[r], "loss", &sum) == (long)(N_BATCHES / N_RUNS) * N_POINTS);
        CHECK(sum == want);
        cairn_free(runs[r]);
    }
    cairn_close(ctx);
}

/* Within one call, batches of one run apply in the order given: the first value of a param
 * wins, the second is refused; its points are not stored, the next batch's are. */
TEST(test_same_run_in_order)
{
    cairn_ctx *ctx = fixture_open();
    char *a = new_run(ctx, fixture_name("order"));
    cairn_param p1 = {"opt", "adam"}, p2 = {"opt", "sgd"};
    cairn_metric m1 = {"x", 1, 1000, 1}, m2 = {"x", 2, 1000, 2}, m3 = {"x", 3, 1000, 3};
    cairn_run_batch in[3] = {
        {.run_id = a, .metrics = &m1, .n_metrics = 1, .params = &p1, .n_params = 1},
        {.run_id = a, .metrics = &m2, .n_metrics = 1, .params = &p2, .n_params = 1},
        {.run_id = a, .metrics = &m3, .n_metrics = 1, .params = &p1, .n_params = 1},
    };
    cairn_status each[3];
    char *msgs[3];
    CHECK(cairn_runs_log_batches(ctx, in, 3, each, msgs) == CAIRN_EINVAL);
    CHECK(each[0] == CAIRN_OK && each[1] == CAIRN_EINVAL && each[2] == CAIRN_OK);
    CHECK(msgs[1] && strstr(msgs[1], "'opt'"));
    for (int i = 0; i < 3; i++)
        cairn_free(msgs[i]);
    long sum = 0;
    CHECK(n_points(ctx, a, "x", &sum) == 2);
    CHECK(sum == 4); /* steps 1 and 3 */
    char buf[32];
    CHECK_STR(param_of(ctx, a, "opt", buf, sizeof buf), "adam");
    cairn_free(a);
    cairn_close(ctx);
}

/* Nothing to do, a single batch (no savepoint), a batch without a run id, and validation
 * failures that never reach the store. */
TEST(test_edges)
{
    cairn_ctx *ctx = fixture_open();
    cairn_status each[2];
    CHECK(cairn_runs_log_batches(ctx, NULL, 0, each, NULL) == CAIRN_OK);
    char *a = new_run(ctx, fixture_name("edges"));
    cairn_metric m = {"y", 1, 0, 0}; /* timestamp 0: now */
    cairn_run_batch one = {.run_id = a, .metrics = &m, .n_metrics = 1};
    CHECK(cairn_runs_log_batches(ctx, &one, 1, each, NULL) == CAIRN_OK && each[0] == CAIRN_OK);
    CHECK(n_points(ctx, a, "y", NULL) == 1);
    cairn_metric neg = {"y", 1, -5, 1};
    cairn_run_batch in[2] = {{.run_id = NULL, .metrics = &m, .n_metrics = 1},
                             {.run_id = a, .metrics = &neg, .n_metrics = 1}};
    char *msgs[2];
    CHECK(cairn_runs_log_batches(ctx, in, 2, each, msgs) == CAIRN_EINVAL);
    CHECK(each[0] == CAIRN_EINVAL && msgs[0] && strstr(msgs[0], "no run id"));
    CHECK(each[1] == CAIRN_EINVAL && msgs[1] && strstr(msgs[1], "negative timestamp"));
    cairn_free(msgs[0]);
    cairn_free(msgs[1]);
    CHECK(n_points(ctx, a, "y", NULL) == 1);
    /* A context without a store: every batch fails with the reason. */
    cairn_ctx *none = cairn_ctx_new();
    CHECK(cairn_runs_log_batches(none, &one, 1, each, NULL) != CAIRN_OK && each[0] != CAIRN_OK);
    cairn_close(none);
    cairn_free(a);
    cairn_close(ctx);
}

/* Whether (run, key "f") holds a point at step. */
static bool has_step(cairn_ctx *ctx, const char *run_id, int64_t step)
{
    cairn_metric_page *page = NULL;
    if (cairn_run_metric_history(ctx, run_id, "f", NULL, 0, &page) != CAIRN_OK)
        return false;
    int found = 0;
    for (size_t i = 0; i < page->n; i++)
        found += page->items[i].step == step;
    cairn_metric_page_free(page);
    CHECK(found <= 1);
    return found == 1;
}

/* The store fails its Nth call (N = 1, 2, ...) during a group: a batch that reports success is
 * stored, one that reports failure is absent, whatever the call that failed (the group's own
 * transaction, a batch's savepoint, or the retry of a batch alone); the failures the retry
 * absorbs are answered as successes. */
TEST(test_faults_leave_batches_whole)
{
    static cn_db_faults faults;
    cairn_ctx *ctx = fixture_open();
    const char *exp = fixture_name("faults");
    char *a = new_run(ctx, exp), *b = new_run(ctx, exp);
    CHECK(cn_db_faulty_install(ctx, &faults) == CAIRN_OK);
    cairn_param same = {"k", "v"};
    cairn_tag tag = {"t", "x"};
    int absorbed = 0, n;
    for (n = 1; n < 300; n++) {
        cairn_metric m[3] = {
            {"f", 1, 1000, n * 10}, {"f", 2, 1000, n * 10 + 1}, {"f", 3, 1000, n * 10 + 2}};
        cairn_run_batch in[4] = {
            {.run_id = a, .metrics = &m[0], .n_metrics = 1},
            {.run_id = b, .metrics = &m[1], .n_metrics = 1, .params = &same, .n_params = 1},
            {.run_id = "0123456789abcdef0123456789abcdef", .metrics = &m[0], .n_metrics = 1},
            {.run_id = a, .metrics = &m[2], .n_metrics = 1, .tags = &tag, .n_tags = 1},
        };
        const char *stored_in[4] = {a, b, NULL, a};
        cairn_status each[4];
        faults.fail_at = n;
        faults.calls = 0;
        faults.hit = false;
        faults.kind = n % 2 ? CN_FAULT_BUSY : CN_FAULT_DISK_FULL;
        cairn_runs_log_batches(ctx, in, 4, each, NULL);
        faults.fail_at = 0;
        CHECK(each[2] != CAIRN_OK);
        bool all_ok = true;
        for (int i = 0; i < 4; i++) {
            if (!stored_in[i])
                continue;
            all_ok &= each[i] == CAIRN_OK;
            CHECK(has_step(ctx, stored_in[i], m[i == 3 ? 2 : i].step) == (each[i] == CAIRN_OK));
        }
        if (faults.hit && all_ok)
            absorbed++;
        if (!faults.hit) {
            CHECK(all_ok && each[2] == CAIRN_ENOTFOUND);
            break;
        }
    }
    CHECK(n < 300);      /* it ran clean in the end */
    CHECK(absorbed > 0); /* and some faults never reached the caller */
    cairn_free(a);
    cairn_free(b);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(test_mixed_batches), UNIT_CASE(test_retries_store_once),
          UNIT_CASE(test_same_run_in_order), UNIT_CASE(test_edges),
          UNIT_CASE(test_faults_leave_batches_whole))
