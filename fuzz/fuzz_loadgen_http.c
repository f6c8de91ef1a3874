/* SPDX-License-Identifier: MIT */
/* fuzz_loadgen_http.c - feeds arbitrary bytes to cairn-loadgen's HTTP response parser
 * (bench/loadgen_http.c), whole and then in pieces: both must agree on where the response ends
 * and on its status, and the end must lie inside the bytes. The first byte picks the piece
 * size and whether the request was HEAD. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "../bench/loadgen_http.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    bool no_body = data[0] & 1;
    size_t step = (size_t)(data[0] >> 1) + 1;
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;

    lg_resp whole = LG_RESP_INIT;
    int rc_whole = lg_resp_parse(&whole, buf, len, no_body);
    if (rc_whole == 1 && (whole.end > len || whole.status < 200 || whole.status > 999))
        __builtin_trap();

    lg_resp part = LG_RESP_INIT;
    int rc_part = 0;
    for (size_t have = step < len ? step : len;; have = have + step < len ? have + step : len) {
        rc_part = lg_resp_parse(&part, buf, have, no_body);
        if (rc_part != 0 || have == len)
            break;
    }
    /* A response that ends inside the bytes is found either way, at the same place; malformed
     * heads are refused either way. */
    if (rc_whole == 1 && rc_part == 1 && (whole.end != part.end || whole.status != part.status))
        __builtin_trap();
    if (rc_whole == 1 && rc_part == 0)
        __builtin_trap();
    if (rc_whole == 0 && lg_resp_eof(&whole, len) == 1 && whole.end != len)
        __builtin_trap();
    return 0;
}
