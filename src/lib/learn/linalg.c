/* SPDX-License-Identifier: MIT */
/* linalg.c - cblas and LAPACK (as shipped inside Debian's libopenblas) behind small
 * row-major wrappers. The LAPACK prototypes are declared here since lapacke.h is absent. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "learn/linalg.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* Fortran LAPACK, gfortran ABI: trailing hidden lengths for character arguments. */
void dgels_(const char *trans, const int *m, const int *n, const int *nrhs, double *a,
            const int *lda, double *b, const int *ldb, double *work, const int *lwork, int *info,
            size_t trans_len);
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info,
             size_t uplo_len);
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

int cn_lstsq(size_t m, size_t n, const double *a, const double *b, double *x)
{
    int mi = (int)m, ni = (int)n, one = 1, info = 0, lwork = -1;
    double *col = cn_xmalloc((m * n > 0 ? m * n : 1) * sizeof *col);
    double *rhs = cn_xmalloc((m ? m : 1) * sizeof *rhs);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            col[j * m + i] = a[i * n + j];
    memcpy(rhs, b, m * sizeof *rhs);
    double wq = 0;
    dgels_("N", &mi, &ni, &one, col, &mi, rhs, &mi, &wq, &lwork, &info, 1);
    lwork = (int)wq > 1 ? (int)wq : 1;
    double *work = cn_xmalloc((size_t)lwork * sizeof *work);
    dgels_("N", &mi, &ni, &one, col, &mi, rhs, &mi, work, &lwork, &info, 1);
    /* dgels does not detect rank deficiency: check R's diagonal against its largest entry. */
    double rmax = 0;
    for (size_t j = 0; j < n; j++)
        rmax = fabs(col[j * m + j]) > rmax ? fabs(col[j * m + j]) : rmax;
    for (size_t j = 0; j < n && info == 0; j++)
        if (fabs(col[j * m + j]) <= rmax * 1e-12 * (double)(m > n ? m : n))
            info = (int)j + 1;
    memcpy(x, rhs, n * sizeof *x);
    free(work);
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
