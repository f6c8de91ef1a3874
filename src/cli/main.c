/* SPDX-License-Identifier: MIT */
/* main.c - the cairn executable: global options (--store, --artifacts, --version), then one
 * command from the table in commands.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "base/str.h"
#include "base/banned.h"

extern const cli_command cli_commands[];
extern const size_t cli_n_commands;

static void usage(FILE *out)
{
    fprintf(out, "usage: cairn [--store URI] [--artifacts DIR] <command> [options] [args]\n\n"
                 "commands:\n");
    for (size_t i = 0; i < cli_n_commands; i++)
        fprintf(out, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fprintf(out, "\nThe store is --store, else $CAIRN_STORE, else sqlite://cairn.db here.\n"
                 "Run 'cairn <command> --help' for a command's options.\n");
}

/* Takes --store and --artifacts out of argv wherever they appear before "--", so
 * `cairn runs list --store X` and `cairn --store X runs list` both work. */
static int take_globals(int *argc, char **argv)
{
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        const char **slot = NULL;
        const char *name = NULL;
        if (strncmp(argv[i], "--store", 7) == 0 && (argv[i][7] == '\0' || argv[i][7] == '=')) {
            slot = &cli_store_uri;
            name = "--store";
        } else if (strncmp(argv[i], "--artifacts", 11) == 0 &&
                   (argv[i][11] == '\0' || argv[i][11] == '=')) {
            slot = &cli_artifact_root;
            name = "--artifacts";
        }
        if (!slot) {
            argv[out++] = argv[i];
            continue;
        }
        const char *eq = strchr(argv[i], '=');
        if (eq) {
            *slot = eq + 1;
        } else if (i + 1 < *argc) {
            *slot = argv[++i];
        } else {
            fprintf(stderr, "cairn: error: %s needs a value\n", name);
            return -1;
        }
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    if (take_globals(&argc, argv) != 0)
        return 2;
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("cairn %s\n", cairn_version());
        return 0;
    }
    for (size_t i = 0; i < cli_n_commands; i++)
        if (strcmp(name, cli_commands[i].name) == 0)
            return cli_commands[i].fn(argc - 1, argv + 1);
    const char *names[64] = {0};
    for (size_t i = 0; i < cli_n_commands && i < 64; i++)
        names[i] = cli_commands[i].name;
    const char *near = cn_str_nearest(name, names, cli_n_commands < 64 ? cli_n_commands : 64);
    if (near)
        fprintf(stderr, "cairn: error: unknown command '%s' (did you mean 'cairn %s'?)\n", name,
                near);
    else
        fprintf(stderr, "cairn: error: unknown command '%s'; run 'cairn --help' for the list\n",
                name);
    return 2;
}
