/* SPDX-License-Identifier: MIT */
/* cli_includes_internal.c - must NOT compile: built with the CLI's include path by the test
 * build/seam (WILL_FAIL) to prove that front ends cannot reach libcairn's internals. */
#include "store/store.h"
#include "lib/store/store.h"

int main(void)
{
    return 0;
}
