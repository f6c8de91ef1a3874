/* SPDX-License-Identifier: MIT */
/* lineproto.h - the metric line protocol a tracked command speaks on stdout, stderr or
 * $CAIRN_METRICS_FILE: one line in, one record out. The runner owns the step counter. */
#ifndef CN_LINEPROTO_H
#define CN_LINEPROTO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/cairn.h"

/* Line formats (--metrics-format):
 *   cairn (default)  "cairn: step=10 loss=0.51"     intermediate metrics
 *                    "cairn: {\"step\": 11, \"loss\": 0.49}"   the same as JSON
 *                    "cairn.final: val_loss=0.43"   final values (logged at the last step)
 *                    "cairn.param: lr=0.1"  "cairn.tag: k=v"  "cairn.artifact: path=out/m.bin"
 *                    A value with spaces is double-quoted: cairn.tag: note="two words".
 *   json             every line that is a JSON object is a record (see below); others are output
 *   regex:PATTERN    POSIX ERE; every match in a line gives one metric: group 1 is the key,
 *                    group 2 the value; a key "step" sets the step
 *   katib, guild     presets of regex: "key=value" pairs anywhere, and "key: value" lines
 * A JSON record holds "step" (integer), metric keys with number values (or the strings "nan",
 * "inf", "-inf"), and optionally "final" (object of metrics), "params" and "tags" (objects of
 * scalars) and "artifacts" (a path or an array of paths). The metrics file always takes JSON
 * records and lines of the cairn format. */

typedef enum cn_lp_kind {
    CN_LP_METRIC = 1, /* key, value */
    CN_LP_FINAL,      /* key, value: logged at the last step */
    CN_LP_PARAM,      /* key, text */
    CN_LP_TAG,        /* key, text */
    CN_LP_ARTIFACT    /* text: a local path */
} cn_lp_kind;

typedef struct cn_lp_item {
    cn_lp_kind kind;
    char *key;    /* NULL for ARTIFACT */
    char *text;   /* the value as written */
    double value; /* METRIC and FINAL */
} cn_lp_item;

typedef struct cn_lp_record {
    bool is_record; /* false: plain output */
    bool has_step;
    int64_t step;
    size_t n;
    cn_lp_item *items;
    /* Non-NULL when the line was meant as a record but is malformed ("metric 'loss': value
     * 'abc' is not a number"); then n is 0: nothing of the line applies. */
    char *error;
    char *error_key; /* the offending key when there is one, for reporting each key once */
    /* Non-NULL when the record applies but something in it was changed: a value too large for
     * a double ("1e309") becomes inf or -inf. warning_key names the (first) key concerned. */
    char *warning;
    char *warning_key;
} cn_lp_record;
#define CN_LP_RECORD_INIT                                                                          \
    {                                                                                              \
        0                                                                                          \
    }

typedef enum cn_lp_format {
    CN_LP_FORMAT_CAIRN = 0,
    CN_LP_FORMAT_JSON,
    CN_LP_FORMAT_REGEX
} cn_lp_format;

typedef struct cn_lineproto cn_lineproto;

/* Compiles a format name: NULL or "cairn", "json", "katib", "guild", "regex:PATTERN".
 * EINVAL names the format, or the pattern and regcomp's message. */
cairn_status cn_lineproto_new(cairn_ctx *ctx, const char *format, cn_lineproto **out);
void cn_lineproto_free(cn_lineproto *lp); /* NULL is a no-op */
cn_lp_format cn_lineproto_format(const cn_lineproto *lp);

/* Parses one line, without its terminator, into *rec (released first). Never fails: a bad
 * line gives rec->error, anything else unrecognised is plain output. */
void cn_lineproto_parse(const cn_lineproto *lp, const char *line, size_t len, cn_lp_record *rec);
/* The same for a line of $CAIRN_METRICS_FILE: a JSON record or a cairn-format line. */
void cn_lineproto_parse_file_line(const char *line, size_t len, cn_lp_record *rec);
void cn_lp_record_release(cn_lp_record *rec);

/* The API's key rule (core/key.h, MLflow's): the protocol refuses no key the API accepts,
 * though a key holding '=' or whitespace cannot be written in the key=value syntax. */
bool cn_lp_key_valid(const char *key, size_t len);
/* Parses a metric value: a decimal number, nan, inf, -inf (any case); false otherwise. A
 * number too large for a double gives inf or -inf (as IEEE 754 rounding and Python's float()
 * do); a number too small gives 0 or a subnormal. */
bool cn_lp_parse_value(const char *text, size_t len, double *out);
#endif
