/* SPDX-License-Identifier: MIT */
/* test_rest_store.c - the remote store's pure parts: URI checks, query and path encoding,
 * error mapping, the retry rule and backoff, log-batch splitting and its JSON, the decoders
 * of MLflow's response JSON; and the message when no server listens. The full round trip
 * against `cairn server` is tests/e2e/test_remote.py. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cairn/cairn.h"
#include "cairn/tracking.h"
#include "core/core.h"
#include "store/store_rest.h"
#include "unit.h"

static cn_json *parse(const char *text)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cn_json *j = NULL;
    if (cn_json_parse(ctx, text, strlen(text), &j) != CAIRN_OK)
        fprintf(stderr, "# bad test JSON: %s\n", cairn_errmsg(ctx));
    cairn_close(ctx);
    return j;
}

TEST(parses_server_uris)
{
    cairn_ctx *ctx = cairn_ctx_new();
    char *base = NULL, *shown = NULL;
    CHECK(cn_rest_parse_uri(ctx, "http://127.0.0.1:5000/", &base, &shown) == CAIRN_OK);
    CHECK_STR(base, "http://127.0.0.1:5000");
    CHECK_STR(shown, "http://127.0.0.1:5000");
    free(base);
    free(shown);
    CHECK(cn_rest_parse_uri(ctx, "https://bob:s3cret@mlflow.example.com/prefix//", &base, &shown) ==
          CAIRN_OK);
    CHECK_STR(base, "https://bob:s3cret@mlflow.example.com/prefix");
    CHECK_STR(shown, "https://mlflow.example.com/prefix");
    free(base);
    free(shown);
    static const char *const bad[] = {"http://", "http:///x", "http://h:1?x=1", "ftp://h",
                                      "http://h #"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(cn_rest_parse_uri(ctx, bad[i], &base, &shown) == CAIRN_EINVAL);
        CHECK(base == NULL && shown == NULL);
        CHECK(strstr(cairn_errmsg(ctx), "http://host:port") != NULL);
    }
    cairn_close(ctx);
}

TEST(encodes_queries_and_paths)
{
    cn_buf q = CN_BUF_INIT;
    cn_rest_query_add(&q, "name", "my model/v1 & co");
    cn_rest_query_add(&q, "skip", NULL);
    cn_rest_query_add_int(&q, "max_results", -25000);
    cn_rest_query_add(&q, "filter", "name LIKE 'a%' AND tags.`k` = 'é'");
    CHECK_STR(q.data, "name=my%20model%2Fv1%20%26%20co&max_results=-25000&filter=name%20LIKE%20%"
                      "27a%25%27%20AND%20tags.%60k%60%20%3D%20%27%C3%A9%27");
    cn_buf_release(&q);
    cn_buf p = CN_BUF_INIT;
    cn_rest_path_append(&p, "1/abc/artifacts/logs/out put#1.log");
    CHECK_STR(p.data, "1/abc/artifacts/logs/out%20put%231.log");
    cn_buf_release(&p);
}

TEST(maps_errors_to_status)
{
    CHECK(cn_rest_status_for(404, "RESOURCE_DOES_NOT_EXIST") == CAIRN_ENOTFOUND);
    CHECK(cn_rest_status_for(400, "RESOURCE_ALREADY_EXISTS") == CAIRN_EEXIST);
    CHECK(cn_rest_status_for(400, "INVALID_PARAMETER_VALUE") == CAIRN_EINVAL);
    CHECK(cn_rest_status_for(400, NULL) == CAIRN_EINVAL);
    CHECK(cn_rest_status_for(404, "ENDPOINT_NOT_FOUND") == CAIRN_EINVAL);
    CHECK(cn_rest_status_for(404, NULL) == CAIRN_EINVAL);
    CHECK(cn_rest_status_for(429, "REQUEST_LIMIT_EXCEEDED") == CAIRN_ELIMIT);
    CHECK(cn_rest_status_for(500, "INTERNAL_ERROR") == CAIRN_EIO);
    CHECK(cn_rest_status_for(503, NULL) == CAIRN_EIO);
    CHECK(cn_rest_status_for(401, "UNAUTHENTICATED") == CAIRN_EINVAL);
    CHECK(cn_rest_is_missing_route(404, "ENDPOINT_NOT_FOUND"));
    CHECK(cn_rest_is_missing_route(404, NULL));
    CHECK(!cn_rest_is_missing_route(404, "RESOURCE_DOES_NOT_EXIST"));
    CHECK(!cn_rest_is_missing_route(400, NULL));
}

TEST(retries_only_what_cannot_duplicate)
{
    /* Never connected: always safe. */
    CHECK(cn_rest_should_retry(0, 0, false));
    CHECK(cn_rest_should_retry(0, 0, true));
    /* May have reached the server: only idempotent requests (log-batch, reads). */
    CHECK(cn_rest_should_retry(1, 0, true));
    CHECK(!cn_rest_should_retry(1, 0, false));
    /* Answers: 429 did nothing; gateway errors may have. */
    CHECK(cn_rest_should_retry(2, 429, false));
    CHECK(cn_rest_should_retry(2, 503, true));
    CHECK(!cn_rest_should_retry(2, 503, false));
    CHECK(cn_rest_should_retry(2, 502, true) && cn_rest_should_retry(2, 504, true));
    CHECK(!cn_rest_should_retry(2, 500, true));
    CHECK(!cn_rest_should_retry(2, 400, true));
    CHECK(!cn_rest_should_retry(2, 404, true));
    /* Exponential, capped, jittered within [0.5, 1.5). */
    CHECK(cn_rest_backoff_ms(1, 0.5) == 500);
    CHECK(cn_rest_backoff_ms(2, 0.5) == 1000);
    CHECK(cn_rest_backoff_ms(3, 0.5) == 2000);
    CHECK(cn_rest_backoff_ms(4, 0.5) == 4000);
    CHECK(cn_rest_backoff_ms(9, 0.5) == 4000);
    CHECK(cn_rest_backoff_ms(1, 0.0) == 250);
    CHECK(cn_rest_backoff_ms(9, 0.999) < 6000);
    int64_t total = 0;
    for (int i = 1; i <= 4; i++)
        total += cn_rest_backoff_ms(i, 0.999);
    CHECK(total < 12000); /* the default 4 retries wait about 7.5 s, at most 12 s */
}

TEST(finds_artifact_proxy_paths)
{
    cn_arena *a = cn_arena_new();
    CHECK_STR(cn_rest_artifact_proxy_path(a, "mlflow-artifacts:/1/abc/artifacts"),
              "1/abc/artifacts");
    CHECK_STR(cn_rest_artifact_proxy_path(a, "mlflow-artifacts://h:5000/1/abc/artifacts/"),
              "1/abc/artifacts");
    CHECK(cn_rest_artifact_proxy_path(a, "/srv/artifacts/1/abc/artifacts") == NULL);
    CHECK(cn_rest_artifact_proxy_path(a, "s3://bucket/1/abc") == NULL);
    CHECK(cn_rest_artifact_proxy_path(a, NULL) == NULL);
    cn_arena_free(a);
}

TEST(splits_batches_within_mlflow_limits)
{
    enum { NM = 2500, NP = 150, NT = 3 };
    cairn_metric *m = calloc(NM, sizeof *m);
    cairn_param p[NP];
    cairn_tag t[NT] = {{"a", "1"}, {"b", "x\"y"}, {"c", ""}};
    char keys[NP][16];
    for (size_t i = 0; i < NM; i++)
        m[i] = (cairn_metric){"loss", (double)i, 1795663891048 + (int64_t)i, (int64_t)i};
    m[0].value = NAN;
    m[1].value = INFINITY;
    m[2].value = -INFINITY;
    for (size_t i = 0; i < NP; i++) {
        snprintf(keys[i], sizeof keys[i], "p%zu", i);
        p[i] = (cairn_param){keys[i], "v"};
    }
    const cairn_metric *pm = m;
    const cairn_param *pp = p;
    const cairn_tag *pt = t;
    size_t nm = NM, np = NP, nt = NT, requests = 0, seen_m = 0, seen_p = 0, seen_t = 0;
    while (nm || np || nt) {
        cn_buf body = CN_BUF_INIT;
        size_t um, up, ut;
        cn_rest_batch_json(&body, "abc", pm, nm, pp, np, pt, nt, &um, &up, &ut);
        CHECK(um <= 1000 && up <= 100 && ut <= 100 && um + up + ut <= 1000);
        CHECK(um + up + ut > 0);
        cn_json *j = parse(body.data);
        CHECK_STR(cn_json_member_str(j, "run_id"), "abc");
        CHECK(cn_json_array_size(cn_json_object_get(j, "metrics")) == um);
        CHECK(cn_json_array_size(cn_json_object_get(j, "params")) == up);
        CHECK(cn_json_array_size(cn_json_object_get(j, "tags")) == ut);
        /* Empty lists are omitted, as MLflow's clients do. */
        CHECK((cn_json_object_get(j, "params") != NULL) == (up > 0));
        if (requests == 0) {
            const cn_json *m0 = cn_json_array_get(cn_json_object_get(j, "metrics"), 0);
            CHECK_STR(cn_json_string(cn_json_object_get(m0, "value")), "NaN");
            CHECK(cn_json_typeof(cn_json_object_get(m0, "timestamp")) == CN_JSON_INT);
            CHECK(cn_json_int(cn_json_object_get(m0, "timestamp")) == 1795663891048);
            const cn_json *m1 = cn_json_array_get(cn_json_object_get(j, "metrics"), 1);
            CHECK_STR(cn_json_string(cn_json_object_get(m1, "value")), "Infinity");
            const cn_json *m2 = cn_json_array_get(cn_json_object_get(j, "metrics"), 2);
            CHECK_STR(cn_json_string(cn_json_object_get(m2, "value")), "-Infinity");
            const cn_json *t1 = cn_json_array_get(cn_json_object_get(j, "tags"), 1);
            CHECK_STR(cn_json_member_str(t1, "value"), "x\"y");
        }
        cn_json_free(j);
        cn_buf_release(&body);
        pm += um, nm -= um, pp += up, np -= up, pt += ut, nt -= ut;
        seen_m += um, seen_p += up, seen_t += ut;
        requests++;
        if (requests > 10)
            break;
    }
    CHECK(seen_m == NM && seen_p == NP && seen_t == NT);
    CHECK(requests == 3); /* 100 params + 3 tags + 897 metrics, 50 + 950, 653 */
    free(m);
}

TEST(reads_mlflow_json_values)
{
    cn_json *j = parse("{\"a\": 5, \"b\": \"17\", \"c\": 2.0, \"d\": \"x\", \"e\": \"NaN\", "
                       "\"f\": \"-Infinity\", \"g\": \"1.5\", \"h\": 1.7976931348623157e308}");
    int64_t v;
    double d;
    CHECK(cn_json_member_int64(j, "a", &v) && v == 5);
    CHECK(cn_json_member_int64(j, "b", &v) && v == 17);
    CHECK(cn_json_member_int64(j, "c", &v) && v == 2);
    CHECK(!cn_json_member_int64(j, "d", &v) && v == 0);
    CHECK(!cn_json_member_int64(j, "zz", &v));
    CHECK(cn_json_member_double(j, "e", &d) && isnan(d));
    CHECK(cn_json_member_double(j, "f", &d) && isinf(d) && d < 0);
    CHECK(cn_json_member_double(j, "g", &d) && d == 1.5);
    CHECK(cn_json_member_double(j, "h", &d) && d == 1.7976931348623157e308);
    CHECK(!cn_json_member_double(j, "d", &d) && isnan(d));
    CHECK_STR(cn_json_member_str(j, "d"), "x");
    CHECK(cn_json_member_str(j, "a") == NULL);
    cn_json_free(j);
}

TEST(decodes_runs)
{
    cn_json *j = parse(
        "{\"info\": {\"run_uuid\": \"0123456789abcdef0123456789abcdef\", \"experiment_id\": "
        "\"3\", \"user_id\": \"ann\", \"status\": \"KILLED\", \"start_time\": 1000, "
        "\"end_time\": \"2000\", \"artifact_uri\": \"mlflow-artifacts:/3/0123/artifacts\", "
        "\"lifecycle_stage\": \"deleted\"}, \"data\": {\"metrics\": [{\"key\": \"loss\", "
        "\"value\": \"NaN\", \"timestamp\": 5, \"step\": 7}, {\"key\": \"acc\", \"value\": 0.5, "
        "\"timestamp\": 6}], \"params\": [{\"key\": \"lr\", \"value\": \"0.1\"}], \"tags\": "
        "[{\"key\": \"mlflow.runName\", \"value\": \"brave-owl\"}, {\"key\": "
        "\"cairn.status_reason\", \"value\": \"lost\"}]}, \"inputs\": {\"dataset_inputs\": "
        "[{\"tags\": [{\"key\": \"mlflow.data.context\", \"value\": \"training\"}], "
        "\"dataset\": {\"name\": \"iris\", \"digest\": \"d1\", \"source_type\": \"local\", "
        "\"source\": \"{}\"}}]}}");
    cn_arena *a = cn_arena_new();
    cairn_run_record r;
    cn_rest_decode_run(j, a, &r);
    CHECK_STR(r.info.run_id, "0123456789abcdef0123456789abcdef");
    CHECK_STR(r.info.experiment_id, "3");
    CHECK_STR(r.info.run_name, "brave-owl"); /* from the tag when info has none */
    CHECK(r.info.status == CAIRN_RUN_KILLED);
    CHECK(r.info.start_time_ms == 1000 && r.info.end_time_ms == 2000);
    CHECK(r.info.is_deleted);
    CHECK_STR(r.info.status_reason, "lost");
    CHECK(r.n_metrics == 2 && isnan(r.metrics[0].value) && r.metrics[0].step == 7);
    CHECK(r.metrics[1].value == 0.5 && r.metrics[1].step == 0 && r.metrics[1].timestamp_ms == 6);
    CHECK(r.n_params == 1 && strcmp(r.params[0].value, "0.1") == 0);
    CHECK(r.n_tags == 2);
    CHECK(r.n_inputs == 1);
    CHECK_STR(r.inputs[0].name, "iris");
    CHECK_STR(r.inputs[0].context, "training");
    CHECK(r.inputs[0].schema == NULL);
    cn_json_free(j);
    /* An empty answer gives an empty record, never a crash. */
    j = parse("{}");
    cn_rest_decode_run(j, a, &r);
    CHECK_STR(r.info.run_id, "");
    CHECK(r.info.status == CAIRN_RUN_RUNNING && r.n_metrics == 0 && r.n_tags == 0);
    cn_json_free(j);
    cn_arena_free(a);
}

/* A digest shortened to MLflow's 36 characters comes back whole from the input tag
 * cairn.digest; a tag that does not extend the digest is ignored. */
TEST(restores_long_digests)
{
    const char *full = "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470";
    char text[1024];
    snprintf(text, sizeof text,
             "{\"info\": {\"run_id\": \"r\"}, \"inputs\": {\"dataset_inputs\": ["
             "{\"tags\": [{\"key\": \"" CN_REST_DIGEST_TAG "\", \"value\": \"%s\"}], "
             "\"dataset\": {\"name\": \"a\", \"digest\": \"%.36s\"}}, "
             "{\"tags\": [{\"key\": \"" CN_REST_DIGEST_TAG "\", \"value\": \"ffff\"}], "
             "\"dataset\": {\"name\": \"b\", \"digest\": \"%.36s\"}}]}}",
             full, full, full);
    cn_json *j = parse(text);
    cn_arena *a = cn_arena_new();
    cairn_run_record r;
    cn_rest_decode_run(j, a, &r);
    CHECK(r.n_inputs == 2);
    CHECK_STR(r.inputs[0].digest, full);
    CHECK(strlen(r.inputs[1].digest) == CN_REST_DIGEST_MAX);
    cn_json_free(j);
    cn_arena_free(a);
}

TEST(decodes_experiments_and_registry)
{
    cn_arena *a = cn_arena_new();
    cn_json *j = parse("{\"experiment_id\": \"7\", \"name\": \"e\", \"lifecycle_stage\": "
                       "\"active\", \"creation_time\": 11, \"tags\": [{\"key\": \"k\", "
                       "\"value\": \"v\"}]}");
    cairn_experiment e;
    cn_rest_decode_experiment(j, a, &e);
    CHECK_STR(e.experiment_id, "7");
    CHECK(!e.is_deleted && e.creation_time_ms == 11 && e.last_update_time_ms == 0);
    CHECK(e.n_tags == 1 && strcmp(e.tags[0].key, "k") == 0);
    CHECK_STR(e.artifact_location, "");
    cn_json_free(j);

    j = parse("{\"name\": \"m\", \"creation_timestamp\": 1, \"latest_versions\": [{\"version\": "
              "\"2\", \"current_stage\": \"None\"}, {\"version\": \"5\", \"current_stage\": "
              "\"Production\"}], \"aliases\": [{\"alias\": \"champion\", \"version\": \"5\"}]}");
    cairn_registered_model m;
    cn_rest_decode_model(j, a, &m);
    CHECK_STR(m.name, "m");
    CHECK_STR(m.description, "");
    CHECK(m.latest_version == 5);
    CHECK(m.n_aliases == 1 && m.aliases[0].version == 5);
    CHECK_STR(m.aliases[0].alias, "champion");
    cn_json_free(j);

    j = parse("{\"name\": \"m\", \"version\": \"3\", \"current_stage\": \"Staging\", "
              "\"source\": \"runs:/abc/model\", \"run_id\": \"abc\", \"status\": \"READY\", "
              "\"aliases\": [\"champion\", \"prod\"], \"semver\": \"1.2.0\"}");
    cairn_model_version v;
    cn_rest_decode_version(j, a, &v);
    CHECK(v.version == 3 && v.stage == CAIRN_STAGE_STAGING);
    CHECK_STR(v.source, "runs:/abc/model");
    CHECK_STR(v.semver, "1.2.0");
    CHECK(v.n_aliases == 2);
    CHECK_STR(v.aliases[1], "prod");
    cn_json_free(j);

    j = parse("{\"name\": \"m\", \"seq\": 4, \"kind\": \"alias_set\", \"alias\": \"prod\", "
              "\"from_version\": null, \"to_version\": 2, \"user\": \"ann\", \"reason\": "
              "\"better\", \"timestamp\": 99}");
    cairn_registry_event ev;
    cn_rest_decode_event(j, a, &ev);
    CHECK(ev.kind == CAIRN_EVENT_ALIAS_SET && ev.seq == 4);
    CHECK(ev.from_version == 0 && ev.to_version == 2 && ev.time_ms == 99);
    CHECK_STR(ev.alias, "prod");
    CHECK_STR(ev.reason, "better");
    cn_json_free(j);
    j = parse("{\"name\": \"m\", \"seq\": 5, \"kind\": \"stage\", \"version\": 3, "
              "\"from_stage\": \"Staging\", \"to_stage\": \"Production\"}");
    cn_rest_decode_event(j, a, &ev);
    CHECK(ev.kind == CAIRN_EVENT_STAGE && ev.to_version == 3);
    CHECK(ev.from_stage == CAIRN_STAGE_STAGING && ev.to_stage == CAIRN_STAGE_PRODUCTION);
    CHECK(ev.alias == NULL);
    cn_json_free(j);
    cn_arena_free(a);
}

/* A port nothing listens on: bound, then closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    close(fd);
    return ntohs(sa.sin_port);
}

TEST(says_when_the_server_is_down)
{
    int port = closed_port();
    CHECK(port > 0);
    char uri[64];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d", port);
    setenv("CAIRN_HTTP_RETRIES", "1", 1);
    cairn_ctx *ctx = NULL;
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK); /* nothing is sent on open */
    cairn_experiment *e = NULL;
    CHECK(cairn_experiment_get(ctx, "0", &e) == CAIRN_EIO);
    CHECK(e == NULL);
    const char *msg = cairn_errmsg(ctx);
    CHECK(strstr(msg, "cannot reach the tracking server at ") != NULL);
    CHECK(strstr(msg, uri) != NULL);
    CHECK(strstr(msg, "cairn server") != NULL && strstr(msg, "CAIRN_STORE") != NULL);
    CHECK(strstr(msg, "(2 tries)") != NULL);
    cairn_close(ctx);
    unsetenv("CAIRN_HTTP_RETRIES");
}

TEST(refuses_bad_server_uris_on_open)
{
    cairn_ctx *ctx = NULL;
    CHECK(cairn_open("http://host:1?x=y", NULL, &ctx) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "http://host:port") != NULL);
    cairn_close(ctx);
    CHECK(cairn_open("gopher://x", NULL, &ctx) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "http://host:port") != NULL);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(parses_server_uris), UNIT_CASE(encodes_queries_and_paths),
          UNIT_CASE(maps_errors_to_status), UNIT_CASE(retries_only_what_cannot_duplicate),
          UNIT_CASE(finds_artifact_proxy_paths), UNIT_CASE(splits_batches_within_mlflow_limits),
          UNIT_CASE(reads_mlflow_json_values), UNIT_CASE(decodes_runs),
          UNIT_CASE(restores_long_digests), UNIT_CASE(decodes_experiments_and_registry),
          UNIT_CASE(says_when_the_server_is_down), UNIT_CASE(refuses_bad_server_uris_on_open))
