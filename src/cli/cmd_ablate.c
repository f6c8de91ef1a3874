/* SPDX-License-Identifier: MIT */
/* cmd_ablate.c - `cairn ablate --config FILE --factor KEY=VALUE ...` (placeholder). */
#include <stdio.h>
#include "cli.h"
#include "base/banned.h"

int cmd_ablate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error("not yet");
}
