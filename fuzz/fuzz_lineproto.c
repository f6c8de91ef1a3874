/* SPDX-License-Identifier: MIT */
/* fuzz_lineproto.c - feeds arbitrary lines to the metric line parser in every format. The
 * first byte picks the format; the rest is the line. */
#include <stdint.h>
#include <stddef.h>
#include "runner/lineproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const formats[] = {"cairn", "json", "katib", "guild",
                                          "regex:([a-z_/]+)=([^ ]+)"};
    if (size == 0)
        return 0;
    cn_lineproto *lp = NULL;
    if (cn_lineproto_new(NULL, formats[data[0] % 5], &lp) != CAIRN_OK)
        return 0;
    cn_lp_record rec = CN_LP_RECORD_INIT;
    cn_lineproto_parse(lp, (const char *)data + 1, size - 1, &rec);
    for (size_t i = 0; i < rec.n; i++)
        if (rec.items[i].kind != CN_LP_ARTIFACT && !rec.items[i].key)
            __builtin_trap();
    cn_lineproto_parse_file_line((const char *)data + 1, size - 1, &rec);
    cn_lp_record_release(&rec);
    cn_lineproto_free(lp);
    return 0;
}
