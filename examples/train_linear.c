/* SPDX-License-Identifier: MIT */
/* train_linear.c - a training loop that links libcairn: fits a linear regression by full-batch
 * gradient descent on a numeric CSV (last column is the target), and tracks it as a run:
 * params, train/validation MSE per epoch, the dataset's digest, and the weights as an artifact.
 *
 *   cc train_linear.c $(pkg-config --cflags --libs cairn) -o train_linear
 *   CAIRN_STORE=sqlite:///tmp/cairn.db ./train_linear data/diabetes.csv 0.05 300
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cairn/tracking.h>

#define MAX_COLS 64

typedef struct dataset {
    size_t n_rows, n_cols; /* n_cols features, then the target */
    double *x;             /* n_rows x n_cols, row-major */
    double *y;
} dataset;

/* Reads a numeric CSV with a header row; the last column is the target. */
static int read_csv(const char *path, dataset *d)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char line[8192];
    size_t cap = 0;
    memset(d, 0, sizeof *d);
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        double v[MAX_COLS];
        size_t n = 0;
        char *p = line;
        while (n < MAX_COLS) {
            char *end;
            v[n++] = strtod(p, &end);
            if (*end != ',')
                break;
            p = end + 1;
        }
        if (n < 2)
            continue;
        if (d->n_cols == 0)
            d->n_cols = n - 1;
        if (n - 1 != d->n_cols) {
            fprintf(stderr, "%s: ragged row %zu\n", path, d->n_rows + 2);
            fclose(f);
            return -1;
        }
        if (d->n_rows == cap) {
            cap = cap ? cap * 2 : 256;
            d->x = realloc(d->x, cap * d->n_cols * sizeof *d->x);
            d->y = realloc(d->y, cap * sizeof *d->y);
        }
        memcpy(d->x + d->n_rows * d->n_cols, v, d->n_cols * sizeof *v);
        d->y[d->n_rows++] = v[n - 1];
    }
    fclose(f);
    return d->n_rows > 0 ? 0 : -1;
}

static double mse(const dataset *d, const double *w, double b, size_t from, size_t to)
{
    double s = 0;
    for (size_t i = from; i < to; i++) {
        double pred = b;
        for (size_t j = 0; j < d->n_cols; j++)
            pred += w[j] * d->x[i * d->n_cols + j];
        s += (pred - d->y[i]) * (pred - d->y[i]);
    }
    return s / (double)(to - from);
}

static int fail(cairn_ctx *ctx)
{
    fprintf(stderr, "train_linear: %s\n", cairn_errmsg(ctx));
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "data/diabetes.csv";
    double lr = argc > 2 ? strtod(argv[2], NULL) : 0.05;
    int epochs = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 300;
    dataset d;
    if (read_csv(path, &d) != 0)
        return 1;

    /* Standardise features and target with statistics of the training rows (first 80%). */
    size_t n_train = d.n_rows * 4 / 5;
    for (size_t j = 0; j < d.n_cols; j++) {
        double mean = 0, var = 0;
        for (size_t i = 0; i < n_train; i++)
            mean += d.x[i * d.n_cols + j];
        mean /= (double)n_train;
        for (size_t i = 0; i < n_train; i++)
            var += pow(d.x[i * d.n_cols + j] - mean, 2);
        double sd = sqrt(var / (double)n_train);
        for (size_t i = 0; i < d.n_rows; i++)
            d.x[i * d.n_cols + j] = (d.x[i * d.n_cols + j] - mean) / (sd > 0 ? sd : 1);
    }

    cairn_ctx *ctx = NULL;
    if (cairn_open(NULL, NULL, &ctx) != CAIRN_OK) /* $CAIRN_STORE, else ./cairn.db */
        return fail(ctx);
    cairn_run_opts opts = CAIRN_RUN_OPTS_INIT;
    opts.experiment = "quickstart";
    opts.name = "c-linear-gd";
    cairn_run *run = NULL;
    if (cairn_run_start(ctx, &opts, &run) != CAIRN_OK)
        return fail(ctx);

    char text[64];
    snprintf(text, sizeof text, "%g", lr);
    cairn_run_log_param(run, "learner", "linear-gd");
    cairn_run_log_param(run, "lr", text);
    snprintf(text, sizeof text, "%d", epochs);
    cairn_run_log_param(run, "epochs", text);
    char digest[65];
    if (cairn_file_sha256(ctx, path, digest, NULL) != CAIRN_OK)
        return fail(ctx);
    cairn_dataset_input input = {.name = path,
                                 .digest = digest,
                                 .source_type = "local",
                                 .source = path,
                                 .context = "training"};
    if (cairn_run_log_input(run, &input) != CAIRN_OK)
        return fail(ctx);

    double w[MAX_COLS] = {0}, b = 0, grad[MAX_COLS];
    for (int epoch = 0; epoch < epochs; epoch++) {
        double gb = 0;
        memset(grad, 0, sizeof grad);
        for (size_t i = 0; i < n_train; i++) {
            double err = b - d.y[i];
            for (size_t j = 0; j < d.n_cols; j++)
                err += w[j] * d.x[i * d.n_cols + j];
            for (size_t j = 0; j < d.n_cols; j++)
                grad[j] += err * d.x[i * d.n_cols + j];
            gb += err;
        }
        for (size_t j = 0; j < d.n_cols; j++)
            w[j] -= lr * 2 * grad[j] / (double)n_train;
        b -= lr * 2 * gb / (double)n_train;
        cairn_metric points[] = {
            {"train_mse", mse(&d, w, b, 0, n_train), 0, epoch},
            {"val_mse", mse(&d, w, b, n_train, d.n_rows), 0, epoch},
        };
        if (cairn_run_log_metrics(run, points, 2) != CAIRN_OK) /* buffered, flushed in batches */
            return fail(ctx);
    }

    char model[4096];
    size_t len = (size_t)snprintf(model, sizeof model, "bias %.17g\n", b);
    for (size_t j = 0; j < d.n_cols && len < sizeof model; j++)
        len += (size_t)snprintf(model + len, sizeof model - len, "w%zu %.17g\n", j, w[j]);
    if (cairn_run_log_artifact_bytes(run, "model/weights.txt", model, len) != CAIRN_OK)
        return fail(ctx);
    if (cairn_run_finish(run, CAIRN_RUN_FINISHED) != CAIRN_OK)
        return fail(ctx);
    printf("run %s: val_mse %.4f after %d epochs\n", cairn_run_id(run),
           mse(&d, w, b, n_train, d.n_rows), epochs);
    cairn_run_free(run);
    cairn_close(ctx);
    free(d.x);
    free(d.y);
    return 0;
}
