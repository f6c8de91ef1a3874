/* SPDX-License-Identifier: MIT */
/* bench_csv.c - CSV read throughput: writes a numeric CSV of about 200 MB (argv[1] MB) to
 * /tmp, reads it with cairn_csv_read (best of 3), prints MB/s, then times numpy.loadtxt on the
 * same file with Debian's /usr/bin/python3 (pandas.read_csv when installed) and prints the
 * ratio. Run by hand: build/dev/bench/bench_csv [MB] [--no-python]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cairn/data.h"
#include "base/rng.h"
#include "base/time.h"
#include "base/banned.h"

#define N_COLS 10

static long long file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long long n = ftell(f);
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    long mb = 200;
    bool python = true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-python") == 0)
            python = false;
        else
            mb = strtol(argv[i], NULL, 10);
    }
    if (mb <= 0)
        mb = 200;
    char path[64];
    snprintf(path, sizeof path, "/tmp/cairn-bench-csv-%ld.csv", (long)getpid());
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    cn_rng rng;
    cn_rng_seed(&rng, 1);
    for (int c = 0; c < N_COLS; c++)
        fprintf(f, "%sx%d", c ? "," : "", c);
    fputc('\n', f);
    long long target = mb * 1000000LL, written = 0;
    size_t rows = 0;
    while (written < target) {
        char line[512];
        int len = 0;
        for (int c = 0; c < N_COLS; c++) {
            double v = c % 3 == 0   ? cn_rng_normal(&rng) * 100
                       : c % 3 == 1 ? (double)cn_rng_below(&rng, 100000)
                                    : cn_rng_uniform(&rng);
            len += snprintf(line + len, sizeof line - (size_t)len, c % 3 == 1 ? "%s%.0f" : "%s%.9g",
                            c ? "," : "", v);
        }
        line[len++] = '\n';
        fwrite(line, 1, (size_t)len, f);
        written += len;
        rows++;
    }
    fclose(f);
    long long size = file_size(path);
    printf("file      %s: %.1f MB, %zu rows x %d columns\n", path, (double)size / 1e6, rows,
           N_COLS);

    cairn_ctx *ctx = cairn_ctx_new();
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        cairn_table *t = NULL;
        int64_t t0 = cn_mono_ns();
        if (cairn_csv_read(ctx, path, NULL, &t) != CAIRN_OK) {
            fprintf(stderr, "bench_csv: %s\n", cairn_errmsg(ctx));
            unlink(path);
            return 1;
        }
        double s = (double)(cn_mono_ns() - t0) / 1e9;
        if (t->n_rows != rows || t->n_cols != N_COLS) {
            fprintf(stderr, "bench_csv: read %zu x %zu, wrote %zu x %d\n", t->n_rows, t->n_cols,
                    rows, N_COLS);
            unlink(path);
            return 1;
        }
        cairn_table_free(t);
        best = s < best ? s : best;
    }
    double mbps = (double)size / 1e6 / best;
    printf("cairn     %.3f s  %.0f MB/s  (best of 3)\n", best, mbps);

    if (python) {
        char cmd[512];
        snprintf(
            cmd, sizeof cmd,
            "/usr/bin/python3 -c \""
            "import time, sys\n"
            "try:\n"
            "    import pandas as pd\n"
            "    name = 'pandas.read_csv'; load = lambda p: pd.read_csv(p)\n"
            "except ImportError:\n"
            "    import numpy as np\n"
            "    name = 'numpy.loadtxt'; load = lambda p: np.loadtxt(p, delimiter=',', "
            "skiprows=1)\n"
            "t0 = time.perf_counter(); load(sys.argv[1]); print(name, time.perf_counter() - t0)\n"
            "\" %s",
            path);
        FILE *p = popen(cmd, "r");
        char name[64];
        double secs = 0;
        if (p && fscanf(p, "%63s %lf", name, &secs) == 2 && secs > 0)
            printf("%-9s %.3f s  %.0f MB/s  cairn is %.1fx faster\n", name, secs,
                   (double)size / 1e6 / secs, secs / best);
        else
            printf("python    not measured (no /usr/bin/python3 with numpy)\n");
        if (p)
            pclose(p);
    }
    cairn_close(ctx);
    unlink(path);
    return mbps >= 100 ? 0 : 1;
}
