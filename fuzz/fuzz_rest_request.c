/* SPDX-License-Identifier: MIT */
/* fuzz_rest_request.c - arbitrary bytes as the JSON body of every tracking and registry route
 * (the first byte picks the route, the rest is the body), run through the server's request
 * decoders and the route itself against a context without a store: every request must end in
 * a well-formed answer (an error JSON with a 4xx/5xx status, or the route's object), never a
 * crash. */
#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tracking/trk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const trk_route *pick(uint8_t b)
{
    size_t n = trk_n_tracking_routes + trk_n_registry_routes;
    size_t i = b % n;
    return i < trk_n_tracking_routes ? &trk_tracking_routes[i]
                                     : &trk_registry_routes[i - trk_n_tracking_routes];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const trk_route *r = pick(data[0]);
    if (r->fn == trk_route_artifacts_list) /* needs a server's artifact root */
        return 0;
    json_t *in = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    if (!in || !json_is_object(in)) {
        json_decref(in);
        return 0;
    }
    static cairn_ctx *ctx;
    if (!ctx)
        ctx = cairn_ctx_new();
    http_request req = {0};
    req.method = (r->methods & TRK_POST) ? "POST" : (r->methods & TRK_GET) ? "GET" : "DELETE";
    req.path = (char *)r->path;
    req.sink_fd = -1;
    http_response resp = {0};
    resp.fd = -1;
    trk_call c = {.req = &req, .resp = &resp, .ctx = ctx, .in = in};
    cn_jsonw_init(&c.w, NULL, 0);
    cn_jsonw_object_begin(&c.w);
    r->fn(&c);
    if (!c.failed)
        cn_jsonw_object_end(&c.w);
    assert(cn_jsonw_finish(&c.w));
    /* Without a store a route either fails with an MLflow error, or answers without needing
     * the store (runs/search without experiments is {}): an object either way. */
    json_t *out = json_loadb(c.w.buf.data, c.w.buf.len, 0, NULL);
    assert(out && json_is_object(out));
    if (c.failed)
        assert(resp.status >= 400 && resp.status < 600 &&
               json_is_string(json_object_get(out, "error_code")) &&
               json_is_string(json_object_get(out, "message")));
    else
        assert(resp.status == 0);
    json_decref(out);
    cn_jsonw_release(&c.w);
    cn_buf_release(&resp.body);
    json_decref(in);
    return 0;
}
