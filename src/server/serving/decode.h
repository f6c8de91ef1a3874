/* SPDX-License-Identifier: MIT */
/* decode.h - the model server's request decoders: every MLflow scoring input (dataframe_split,
 * dataframe_records, instances, inputs, CSV) and Open Inference Protocol V2 tensors, checked
 * against the model's features and turned into a table holding exactly those features in the
 * model's order. Called by the worker threads (serving/server.c) and fuzz/fuzz_serve_request.c. */
#ifndef MSV_DECODE_H
#define MSV_DECODE_H
#include <stdbool.h>
#include <stddef.h>
#include "cairn/data.h"
#include "base/buf.h"
#include "base/map.h"

/* What a request must hold: the model's features, in order. */
typedef struct msv_schema {
    size_t n_features;
    char **names;
    cairn_col_type *types;
    bool allows_missing; /* the learner takes missing values (xgboost) */
    const char *learner; /* for messages */
    cn_map by_name;      /* name -> feature index */
} msv_schema;

/* names[0 .. n) and types are copied. */
void msv_schema_init(msv_schema *s, const char *const *names, const cairn_col_type *types, size_t n,
                     bool allows_missing, const char *learner);
void msv_schema_release(msv_schema *s);

/* Which input a request used (for metrics and messages). */
typedef enum msv_format {
    MSV_FMT_SPLIT = 0,
    MSV_FMT_RECORDS,
    MSV_FMT_INSTANCES,
    MSV_FMT_INPUTS,
    MSV_FMT_CSV,
    MSV_FMT_V2
} msv_format;

/* Decodes a POST /invocations body of the given Content-Type (NULL: none); the common numeric
 * JSON bodies through the fast path (msv_decode_fast). Returns 0 with *out
 * a new table (cairn_table_free), or the HTTP status of the refusal (400, 415) with the message
 * in err and *out NULL. ctx: any context this thread owns (for the table builders). */
int msv_decode_invocations(cairn_ctx *ctx, const msv_schema *s, const char *content_type,
                           const char *body, size_t len, cairn_table **out, msv_format *fmt,
                           cn_buf *err);

/* msv_decode_invocations without the fast path (JSON through jansson's tree always): what the
 * fast path must agree with (fuzz/fuzz_serve_fast.c). */
int msv_decode_invocations_full(cairn_ctx *ctx, const msv_schema *s, const char *content_type,
                                const char *body, size_t len, cairn_table **out, msv_format *fmt,
                                cn_buf *err);

/* The fast path (fastdecode.c): a JSON body {"inputs"|"instances": [[numbers], ...]} or
 * {"dataframe_split": {"columns": [...], "data": [[numbers], ...]}} for a model whose
 * features are all numeric, parsed in one pass without a JSON tree. True with *out the table
 * msv_decode_invocations_full would give; false when the body is anything else (nothing
 * allocated): decode it with the full decoder, which answers it (the fast path never
 * refuses). */
bool msv_decode_fast(cairn_ctx *ctx, const msv_schema *s, const char *body, size_t len,
                     cairn_table **out, msv_format *fmt);

/* Decodes a POST /v2/models/NAME/infer body (inference request JSON). *id_out is the request's
 * "id" (a new string, NULL when absent). Returns 0 or a status with err, as above. */
int msv_decode_v2(cairn_ctx *ctx, const msv_schema *s, const char *body, size_t len,
                  cairn_table **out, char **id_out, cn_buf *err);

/* Copies body[0 .. len) with the tokens Python's json writes for non-finite floats (NaN,
 * Infinity, -Infinity, outside strings) made parseable: NaN becomes null (a missing value),
 * the infinities the strings "\u0000Infinity" / "\u0000-Infinity" that the decoders refuse
 * as not finite. Returns NULL when there is no such token (parse body itself). */
char *msv_json_fix_nonfinite(const char *body, size_t len, size_t *out_len);
#endif
