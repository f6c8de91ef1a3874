/* SPDX-License-Identifier: MIT */
/* linalg.c - cblas and LAPACK (as shipped inside Debian's libopenblas) behind small
 * row-major wrappers. The LAPACK prototypes are declared here since lapacke.h is absent. */
#include <cblas.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include "learn/linalg.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* Fortran LAPACK, gfortran ABI: trailing hidden lengths for character arguments. */
void dgelsd_(const int *m, const int *n, const int *nrhs, double *a, const int *lda, double *b,
             const int *ldb, double *s, const double *rcond, int *rank, double *work,
             const int *lwork, int *iwork, int *info);
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda,
             double *b, const int *ldb, int *info, size_t uplo_len);

void cn_linalg_single_thread(void)
{
    openblas_set_num_threads(1);
}

void cn_gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, double alpha,
             const double *a, size_t lda, const double *b, size_t ldb, double beta, double *c,
             size_t ldc)
{
    if (m == 0 || n == 0)
        return;
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, alpha, a,
                (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

void cn_gemv(bool trans_a, size_t m, size_t n, double alpha, const double *a, size_t lda,
             const double *x, double beta, double *y)
{
    if (m == 0 || n == 0)
        return;
    cblas_dgemv(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n, alpha,
                a, (blasint)lda, x, 1, beta, y, 1);
}

void cn_gram(size_t m, size_t n, const double *a, double *s)
{
    cn_gemm(true, false, n, n, m, 1.0, a, n, a, n, 0.0, s, n);
}

void cn_gram_rows(size_t m, size_t n, const double *a, double *s)
{
    if (m == 0)
        return;
    if (n == 0) {
        memset(s, 0, m * m * sizeof *s);
        return;
    }
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (blasint)m, (blasint)n, 1.0, a, (blasint)n,
                0.0, s, (blasint)m);
    /* dsyrk fills one triangle only; mirror it so callers may read either. */
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m; j++)
            s[i * m + j] = s[j * m + i];
}

int cn_lstsq(size_t m, size_t n, const double *a, const double *b, double *x)
{
    size_t ldb = m > n ? m : n;
    int mi = (int)m, ni = (int)n, ldbi = (int)ldb, one = 1, info = 0, rank = 0, lwork = -1;
    double rcond = DBL_EPSILON; /* scipy.linalg.lstsq's default cutoff */
    double *col = cn_xmalloc((m * n > 0 ? m * n : 1) * sizeof *col);
    double *rhs = cn_xcalloc(ldb ? ldb : 1, sizeof *rhs);
    double *sv = cn_xmalloc((m < n ? m : n) * sizeof *sv + sizeof *sv);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            col[j * m + i] = a[i * n + j];
    memcpy(rhs, b, m * sizeof *rhs);
    double wq = 0;
    int iq = 0;
    dgelsd_(&mi, &ni, &one, col, &mi, rhs, &ldbi, sv, &rcond, &rank, &wq, &lwork, &iq, &info);
    lwork = (int)wq > 1 ? (int)wq : 1;
    double *work = cn_xmalloc((size_t)lwork * sizeof *work);
    int *iwork = cn_xmalloc((size_t)(iq > 1 ? iq : 1) * sizeof *iwork);
    dgelsd_(&mi, &ni, &one, col, &mi, rhs, &ldbi, sv, &rcond, &rank, work, &lwork, iwork, &info);
    memcpy(x, rhs, n * sizeof *x);
    free(iwork);
    free(work);
    free(sv);
    free(rhs);
    free(col);
    return info;
}

int cn_cholesky_solve(size_t n, const double *s, double *b)
{
    int ni = (int)n, one = 1, info = 0;
    double *f = cn_xmemdup(s, (n * n > 0 ? n * n : 1) * sizeof *f);
    /* Symmetric, so row-major is column-major: the lower triangle either way. */
    dpotrf_("L", &ni, f, &ni, &info, 1);
    if (info == 0)
        dpotrs_("L", &ni, &one, f, &ni, b, &ni, &info, 1);
    free(f);
    return info;
}
