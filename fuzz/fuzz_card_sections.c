/* SPDX-License-Identifier: MIT */
/* fuzz_card_sections.c - feeds arbitrary bytes (as a NUL-terminated Markdown text) to the model
 * card's section reader (cairn_model_card_check) and checks its answer agrees with the list of
 * missing sections it writes. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char missing[200];
    bool complete = cairn_model_card_check(text, missing, sizeof missing);
    if (complete != (missing[0] == 0))
        __builtin_trap();
    free(text);
    return 0;
}
