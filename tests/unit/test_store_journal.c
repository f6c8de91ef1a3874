/* SPDX-License-Identifier: MIT */
/* test_store_journal.c - Optuna journal interop (cairn/hpo.h "Optuna interop") on a real store
 * (SQLite, or PostgreSQL under scripts/with-pg.sh): a study made through the API (every
 * parameter type, a conditional one, pruned, failed, running and waiting trials, intermediate
 * values) exported and imported back is the same study; the reader's records and messages
 * (datetimes with and without offsets, NaN and Infinity, a WAITING trial before later ones,
 * limits and errors naming the line); and an import that fails at any store call leaves no
 * study and no live run behind (the fault-injecting driver). */
#include <math.h>
#include <time.h>
#include "unit.h"
#include "store_fixture.h"
#include "cairn/hpo.h"
#include "hpo/journal.h"
#include "store/db_faulty.h"

static cairn_ctx *ctx;

static const char space_all[] = "objective: {name: loss, goal: maximize}\n"
                                "parameters:\n"
                                "  x: {type: float, low: -1, high: 1}\n"
                                "  lr: {type: float, low: 1.0e-4, high: 1, log: true}\n"
                                "  q: {type: float, low: 0, high: 1, step: 0.25}\n"
                                "  n: {type: int, low: 1, high: 9, step: 2}\n"
                                "  w: {type: int, low: 1, high: 64, log: true}\n"
                                "  opt: {type: categorical, values: [adam, sgd, 3, true]}\n"
                                "  mom: {type: float, low: 0, high: 1, when: {opt: sgd}}\n"
                                "  seed: 7\n";

/* n asked trials (the last stays RUNNING) and one WAITING: n + 1 trials. */
static cairn_study *make_study(const char *name, int n)
{
    cairn_study_opts o = CAIRN_STUDY_OPTS_INIT;
    o.space_text = space_all;
    o.sampler = "random";
    o.has_seed = true;
    o.seed = 3;
    cairn_study *s = NULL;
    CHECK(cairn_study_open(ctx, name, &o, &s) == CAIRN_OK);
    for (int i = 0; s && i < n; i++) {
        cairn_trial t;
        CHECK(cairn_study_ask(s, &t) == CAIRN_OK);
        CHECK(cairn_study_report(s, t.number, 0, t.params[0]) == CAIRN_OK);
        CHECK(cairn_study_report(s, t.number, 2, i == 4 ? NAN : t.params[0] * 2) == CAIRN_OK);
        if (i == n - 1)
            break; /* stays RUNNING */
        cairn_trial_state st = i % 4 == 1   ? CAIRN_TRIAL_PRUNED
                               : i % 4 == 2 ? CAIRN_TRIAL_FAIL
                                            : CAIRN_TRIAL_COMPLETE;
        CHECK(cairn_study_tell(s, t.number, st, t.params[0] + i) == CAIRN_OK);
    }
    cairn_param fixed = {"opt", "sgd"};
    CHECK(s && cairn_study_enqueue(s, &fixed, 1, NULL) == CAIRN_OK);
    return s;
}

static bool same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void check_same_trials(cairn_study *a, cairn_study *b)
{
    const cairn_trial *ta = NULL, *tb = NULL;
    size_t na = 0, nb = 0;
    CHECK(cairn_study_trials(a, &ta, &na) == CAIRN_OK);
    /* the pointers stay valid until the next call on the same study */
    CHECK(cairn_study_trials(b, &tb, &nb) == CAIRN_OK);
    CHECK(na == nb && na == 10);
    for (size_t i = 0; i < na && i < nb; i++) {
        CHECK(ta[i].number == tb[i].number);
        CHECK(ta[i].state == tb[i].state);
        CHECK(same_double(ta[i].value, tb[i].value));
        CHECK(ta[i].n_params == tb[i].n_params);
        for (size_t k = 0; k < ta[i].n_params; k++)
            CHECK(same_double(ta[i].params[k], tb[i].params[k]));
        CHECK(ta[i].start_ms == tb[i].start_ms);
        if (ta[i].state != CAIRN_TRIAL_RUNNING)
            CHECK(ta[i].end_ms == tb[i].end_ms);
        CHECK(ta[i].n_steps == tb[i].n_steps);
        for (size_t k = 0; k < ta[i].n_steps && k < tb[i].n_steps; k++) {
            CHECK(ta[i].steps[k] == tb[i].steps[k]);
            CHECK(same_double(ta[i].values[k], tb[i].values[k]));
        }
        CHECK((ta[i].run_id[0] != 0) == (tb[i].run_id[0] != 0));
        if (ta[i].run_id[0])
            CHECK(strcmp(ta[i].run_id, tb[i].run_id) != 0);
    }
}

TEST(round_trip)
{
    const char *name = fixture_name("jrt");
    const char *copy_name = fixture_name("jrt-copy");
    cairn_study *s = make_study(name, 9);
    char path[400];
    snprintf(path, sizeof path, "%s/%s.log", fixture_dir, name);
    CHECK(cairn_study_export_journal(s, path) == CAIRN_OK);

    cairn_journal_import_opts o = CAIRN_JOURNAL_IMPORT_OPTS_INIT;
    o.name = copy_name;
    cairn_study *copy = NULL;
    cairn_status rc = cairn_study_import_journal(ctx, path, &o, &copy);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# import: %s\n", cairn_errmsg(ctx));
    CHECK(rc == CAIRN_OK);
    if (copy) {
        bool max_a = false, max_b = false;
        CHECK_STR(cairn_study_objective(copy, &max_b, NULL),
                  cairn_study_objective(s, &max_a, NULL));
        CHECK(max_a && max_b);
        check_same_trials(s, copy);
        /* The copy's journal is the original's but for its name and run ids. */
        char *one = NULL, *two = NULL;
        CHECK(cairn_study_journal_text(s, &one, NULL) == CAIRN_OK);
        CHECK(cairn_study_journal_text(copy, &two, NULL) == CAIRN_OK);
        const char *a = one ? strstr(one, "\"op_code\": 4") : NULL;
        const char *b = two ? strstr(two, "\"op_code\": 4") : NULL;
        CHECK(a && b && strlen(a) == strlen(b));
        free(one);
        free(two);
    }
    /* the same name again: refused, the existing study untouched */
    rc = cairn_study_import_journal(ctx, path, &o, NULL);
    CHECK(rc == CAIRN_EEXIST);
    CHECK(strstr(cairn_errmsg(ctx), "exists already") != NULL);
    cairn_study_free(copy);
    cairn_study_free(s);
}

static cn_journal *parse(const char *text, const char *study, cairn_status want)
{
    cn_journal *j = NULL;
    cairn_status rc = cn_journal_parse(ctx, "t.log", text, strlen(text), study, &j);
    if (rc != want)
        fprintf(stderr, "# parse gave %d, want %d: %s\n", rc, want, cairn_errmsg(ctx));
    CHECK(rc == want);
    return j;
}

static void refused(const char *text, const char *needle)
{
    cn_journal *j = parse(text, NULL, CAIRN_EINVAL);
    CHECK(j == NULL);
    if (!strstr(cairn_errmsg(ctx), needle))
        fprintf(stderr, "# '%s' lacks '%s'\n", cairn_errmsg(ctx), needle);
    CHECK(strstr(cairn_errmsg(ctx), needle) != NULL);
    cn_journal_free(j);
}

#define STUDY "{\"op_code\": 0, \"worker_id\": \"w\", \"study_name\": \"s\", \"directions\": [1]}\n"
#define TRIAL(extra)                                                                               \
    "{\"op_code\": 4, \"worker_id\": \"w\", \"study_id\": 0, \"datetime_start\": " extra "}\n"
#define FLOAT_X                                                                                    \
    "{\\\"name\\\": \\\"FloatDistribution\\\", \\\"attributes\\\": {\\\"low\\\": 0, "              \
    "\\\"high\\\": 1, \\\"log\\\": false, \\\"step\\\": null}}"

/* a trial of study 1 that sets x */
#define TRIAL_T                                                                                    \
    "{\"op_code\": 4, \"worker_id\": \"w\", \"study_id\": 1, \"datetime_start\": null, "           \
    "\"params\": {\"x\": 0.5}, \"distributions\": {\"x\": \"" FLOAT_X "\"}}\n"

TEST(reader_records)
{
    /* offsets, Z, fractions of any length; NaN and Infinity bare; steps kept ascending */
    const char *text = STUDY TRIAL(
        "\"2024-01-02T03:04:05.123456+00:00\"") "{\"op_code\": 5, \"worker_id\": \"w\", "
                                                "\"trial_id\": 0, \"param_name\": \"x\", "
                                                "\"param_value_internal\": 0.25, \"distribution\": "
                                                "\"" FLOAT_X "\"}\n"
                                                "{\"op_code\": 7, \"worker_id\": \"w\", "
                                                "\"trial_id\": 0, \"step\": 5, "
                                                "\"intermediate_value\": NaN}\n"
                                                "{\"op_code\": 7, \"worker_id\": \"w\", "
                                                "\"trial_id\": 0, \"step\": 1, "
                                                "\"intermediate_value\": -Infinity}\n"
                                                "{\"op_code\": 6, \"worker_id\": \"w\", "
                                                "\"trial_id\": 0, \"state\": 1, \"values\": "
                                                "[Infinity], \"datetime_complete\": "
                                                "\"2024-01-02T04:04:05.5-01:00\"}\n"
                                                "{\"op_code\": 7, \"worker_id\": \"w\", "
                                                "\"trial_id\": 0, \"step\": 9, "
                                                "\"intermediate_value\": 1}\n" /* a finished trial:
                                                                                  ignored, as Optuna
                                                                                  does */
        TRIAL("null, \"state\": 4") TRIAL("\"2024-01-02T03:04:05\", \"state\": 1, \"value\": 2");
    cn_journal *j = parse(text, NULL, CAIRN_OK);
    CHECK(j && j->n_trials == 3 && !j->maximize);
    if (j && j->n_trials == 3) {
        const cn_journal_trial *t = &j->trials[0];
        CHECK(t->start_ms == 1704164645123LL);
        CHECK(t->end_ms == 1704171845500LL);
        CHECK(t->state == CAIRN_TRIAL_COMPLETE && t->value == INFINITY);
        CHECK(t->params[0] == 0.25);
        CHECK(t->n_steps == 2 && t->steps[0] == 1 && t->steps[1] == 5);
        CHECK(t->n_steps == 2 && t->values[0] == -INFINITY && isnan(t->values[1]));
        CHECK(j->trials[1].state == CAIRN_TRIAL_WAITING && j->trials[1].start_ms == 0);
        CHECK(isnan(j->trials[1].params[0]));
        struct tm tm = {.tm_year = 124,
                        .tm_mon = 0,
                        .tm_mday = 2,
                        .tm_hour = 3,
                        .tm_min = 4,
                        .tm_sec = 5,
                        .tm_isdst = -1};
        CHECK(j->trials[2].start_ms == (int64_t)mktime(&tm) * 1000); /* naive: local time */
    }
    cn_journal_free(j);

    /* a WAITING trial before later ones is imported as FAIL (the store asks WAITING first) */
    const char *name = fixture_name("jwait");
    char path[400];
    snprintf(path, sizeof path, "%s/%s.log", fixture_dir, name);
    const char *full = STUDY TRIAL("null, \"state\": 4, \"params\": {\"x\": 0.5}, "
                                   "\"distributions\": {\"x\": \"" FLOAT_X "\"}")
        TRIAL("\"2024-01-02T03:04:05\", \"state\": 1, \"value\": 2");
    FILE *f = fopen(path, "w");
    CHECK(f && fputs(full, f) >= 0 && fclose(f) == 0);
    cairn_journal_import_opts o = CAIRN_JOURNAL_IMPORT_OPTS_INIT;
    o.name = name;
    cairn_study *s = NULL;
    CHECK(cairn_study_import_journal(ctx, path, &o, &s) == CAIRN_OK);
    const cairn_trial *tr = NULL;
    size_t n = 0;
    CHECK(s && cairn_study_trials(s, &tr, &n) == CAIRN_OK && n == 2);
    CHECK(n == 2 && tr[0].state == CAIRN_TRIAL_FAIL && tr[1].state == CAIRN_TRIAL_COMPLETE);
    CHECK(n == 2 && tr[1].value == 2);
    cairn_study_free(s);
}

TEST(reader_errors)
{
    refused("", "is empty");
    refused("{\"op_code\": 0}\n", "line 1: 'worker_id'");
    refused(STUDY "[1, 2]\n", "line 2: a record must be a JSON object");
    refused(STUDY "{\"op_code\": 3, \"worker_id\": \"w\", \"study_id\": 0", "line 2: the last "
                                                                            "record is cut short");
    refused(STUDY "{\"op_code\": 11, \"worker_id\": \"w\"}\n", "unknown op_code 11");
    refused(STUDY TRIAL("\"yesterday\""), "line 2: 'datetime_start' must be an ISO 8601");
    refused(STUDY TRIAL("null, \"state\": 7"), "'state' is 7, outside [0, 4]");
    refused(STUDY "{\"op_code\": 6, \"worker_id\": \"w\", \"trial_id\": 3, \"state\": 1, "
                  "\"values\": [1]}\n",
            "line 2: trial_id 3 does not exist");
    refused(STUDY "{\"op_code\": 4, \"worker_id\": \"w\", \"study_id\": 1, \"datetime_start\": "
                  "null}\n",
            "study_id 1 does not exist");
    refused(STUDY TRIAL("null, \"params\": {\"x\": 2}, \"distributions\": {\"x\": \"{\\\"name\\\": "
                        "\\\"CategoricalDistribution\\\", \\\"attributes\\\": {\\\"choices\\\": "
                        "[1, 2]}}\"}"),
            "parameter 'x': 2 is not a choice index in [0, 2)");
    refused(STUDY TRIAL("null, \"params\": {\"x\": 1}, \"distributions\": {\"x\": \"{\\\"name\\\": "
                        "\\\"NormalDistribution\\\", \\\"attributes\\\": {}}\"}"),
            "unknown distribution 'NormalDistribution'");
    refused(STUDY TRIAL("null, \"state\": 1, \"value\": null"), "COMPLETE without a value");
    refused(STUDY TRIAL("null, \"state\": 1, \"values\": [1, 2]"), "multi-objective");
    refused(STUDY STUDY "{\"op_code\": 0, \"worker_id\": \"w\", \"study_name\": \"t\", "
                        "\"directions\": [2]}\n",
            "holds 2 studies ('s', 't')");
    refused(STUDY TRIAL("null, \"state\": 3"), "no trial of study 's' set a parameter");
    cn_journal *j = parse(STUDY "{\"op_code\": 0, \"worker_id\": \"w\", \"study_name\": \"t\", "
                                "\"directions\": [2]}\n" TRIAL_T,
                          "t", CAIRN_OK);
    CHECK(j && j->maximize && strcmp(j->study_name, "t") == 0);
    cn_journal_free(j);
    j = parse(STUDY, "u", CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "no study 'u'; it holds 's'") != NULL);
    cn_journal_free(j);
    /* a line longer than the limit */
    size_t big = CN_JOURNAL_MAX_LINE + 10;
    char *text = malloc(big + 1);
    memset(text, ' ', big);
    text[big] = '\0';
    j = parse(text, NULL, CAIRN_ELIMIT);
    CHECK(strstr(cairn_errmsg(ctx), "line 1: longer than") != NULL);
    free(text);
    cn_journal_free(j);
}

/* An import failing at store call N, for every N until it runs clean: no study is left,
 * and no run of the experiment is live. */
TEST(import_failing_anywhere_leaves_nothing)
{
    const char *src_name = fixture_name("jfault-src");
    cairn_study *src = make_study(src_name, 4);
    char path[400];
    snprintf(path, sizeof path, "%s/%s.log", fixture_dir, src_name);
    CHECK(cairn_study_export_journal(src, path) == CAIRN_OK);
    cairn_study_free(src);

    cairn_ctx *fctx = fixture_open();
    static cn_db_faults faults;
    CHECK(cn_db_faulty_install(fctx, &faults) == CAIRN_OK);
    const char *exp_name = fixture_name("jfault-exp");
    char *exp_id = NULL;
    CHECK(cairn_experiment_create(fctx, exp_name, NULL, NULL, 0, &exp_id) == CAIRN_OK);
    const char *name = fixture_name("jfault");
    cairn_journal_import_opts o = CAIRN_JOURNAL_IMPORT_OPTS_INIT;
    o.name = name;
    o.experiment = exp_name;
    int failures = 0;
    for (int n = 1; n < 2000; n++) {
        faults.fail_at = n;
        faults.calls = 0;
        faults.hit = false;
        faults.kind = n % 2 ? CN_FAULT_BUSY : CN_FAULT_DISK_FULL;
        cairn_status rc = cairn_study_import_journal(fctx, path, &o, NULL);
        faults.fail_at = 0;
        cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
        const char *ids[1] = {exp_id};
        q.experiment_ids = ids;
        q.n_experiment_ids = 1;
        cairn_run_page *page = NULL;
        CHECK(cairn_runs_search(fctx, &q, &page) == CAIRN_OK);
        size_t live = page ? page->n : 0;
        cairn_run_page_free(page);
        cairn_study_opts so = CAIRN_STUDY_OPTS_INIT;
        so.must_exist = true;
        cairn_study *got = NULL;
        cairn_status there = cairn_study_open(fctx, name, &so, &got);
        if (!faults.hit) {
            CHECK(rc == CAIRN_OK);
            CHECK(there == CAIRN_OK && live == 4);
            const cairn_trial *tr = NULL;
            size_t nt = 0;
            CHECK(got && cairn_study_trials(got, &tr, &nt) == CAIRN_OK && nt == 5);
            cairn_study_free(got);
            break;
        }
        failures++;
        if (rc == CAIRN_OK || there != CAIRN_ENOTFOUND || live != 0)
            fprintf(stderr, "# fault at call %d: rc %d, study %d, %zu live runs: %s\n", n, rc,
                    there, live, cairn_errmsg(fctx));
        CHECK(rc != CAIRN_OK && there == CAIRN_ENOTFOUND && live == 0);
        cairn_study_free(got);
        if (rc == CAIRN_OK)
            break;
    }
    CHECK(failures > 20);
    cairn_free(exp_id);
    cairn_close(fctx);
}

static void setup(void)
{
    ctx = fixture_open();
}

TEST(open_store)
{
    setup();
    CHECK(ctx != NULL);
}

TEST(close_store)
{
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(open_store), UNIT_CASE(round_trip), UNIT_CASE(reader_records),
          UNIT_CASE(reader_errors), UNIT_CASE(import_failing_anywhere_leaves_nothing),
          UNIT_CASE(close_store))
