/* SPDX-License-Identifier: MIT */
/* fuzz_rest_decode.c - feeds arbitrary bytes, parsed as JSON, to every decoder of the remote
 * store (what a tracking server answers) and checks what they promise: no crash, strings never
 * NULL where the public types say "" for missing, counts matching their arrays. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "store/store_rest.h"
#include "base/xmalloc.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dec_run(const cn_json *j, cn_arena *a, void *item)
{
    cn_rest_decode_run(j, a, item);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cn_json *j = NULL;
    if (cn_json_parse(ctx, (const char *)data, size, &j) != CAIRN_OK) {
        cairn_close(ctx);
        return 0;
    }
    cn_arena *a = cn_arena_new();
    cairn_run_record r;
    cn_rest_decode_run(j, a, &r);
    CN_ASSERT(r.info.run_id && r.info.experiment_id && r.info.run_name && r.info.artifact_uri);
    for (size_t i = 0; i < r.n_tags; i++)
        CN_ASSERT(r.tags[i].key && r.tags[i].value);
    for (size_t i = 0; i < r.n_params; i++)
        CN_ASSERT(r.params[i].key && r.params[i].value);
    for (size_t i = 0; i < r.n_metrics; i++)
        CN_ASSERT(r.metrics[i].key);
    for (size_t i = 0; i < r.n_inputs; i++)
        CN_ASSERT(r.inputs[i].name && r.inputs[i].digest && r.inputs[i].source);
    cairn_experiment e;
    cn_rest_decode_experiment(j, a, &e);
    CN_ASSERT(e.experiment_id && e.name && e.artifact_location);
    cairn_registered_model m;
    cn_rest_decode_model(j, a, &m);
    CN_ASSERT(m.name && m.description);
    for (size_t i = 0; i < m.n_aliases; i++)
        CN_ASSERT(m.aliases[i].alias);
    cairn_model_version v;
    cn_rest_decode_version(j, a, &v);
    CN_ASSERT(v.name && v.source && v.run_id && v.status && v.user_id && v.description);
    for (size_t i = 0; i < v.n_aliases; i++)
        CN_ASSERT(v.aliases[i]);
    cairn_registry_event ev;
    cn_rest_decode_event(j, a, &ev);
    CN_ASSERT(ev.name && ev.user && ev.reason);
    void *items = NULL;
    size_t n = 0;
    cn_rest_decode_array(j, "runs", a, sizeof(cairn_run_record), dec_run, &items, &n);
    CN_ASSERT((n == 0) == (items == NULL));
    int64_t x;
    double d;
    (void)cn_json_member_int64(j, "version", &x);
    (void)cn_json_member_double(j, "value", &d);
    cn_arena_free(a);
    cn_json_free(j);
    cairn_close(ctx);
    return 0;
}
