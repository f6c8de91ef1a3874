/* SPDX-License-Identifier: MIT */
/* cli_includes_public.c - the control for build/seam: with the CLI's include path, the public
 * headers and base/ compile and link, so build/seam fails for the right reason. */
#include "cairn/tracking.h"
#include "base/buf.h"
#include "base/banned.h"

int main(void)
{
    return cairn_version() == NULL;
}
