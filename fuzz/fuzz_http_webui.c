/* SPDX-License-Identifier: MIT */
/* fuzz_http_webui.c - arbitrary bytes as the If-None-Match header the web UI's files are
 * revalidated with (src/server/tracking/webui.c). A match needs the ETag (or "*") in the
 * header; the ETag itself, alone, weak or in a list, always matches. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tracking/webui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char etag[] = "\"0123456789abcdef\"";
    char *inm = malloc(size + 1);
    if (!inm)
        return 0;
    memcpy(inm, data, size);
    inm[size] = '\0';
    bool m = trk_webui_etag_matches(inm, etag);
    if (m)
        assert(strchr(inm, '*') || strstr(inm, etag));
    free(inm);

    assert(trk_webui_etag_matches(etag, etag));
    assert(trk_webui_etag_matches("W/\"0123456789abcdef\"", etag));
    assert(trk_webui_etag_matches("\"x\", \"0123456789abcdef\"", etag));
    assert(!trk_webui_etag_matches("\"0123456789abcde\"", etag));
    assert(!trk_webui_etag_matches(NULL, etag));
    return 0;
}
