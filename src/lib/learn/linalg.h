/* SPDX-License-Identifier: MIT */
/* linalg.h - the dense linear algebra learners need, over OpenBLAS (cblas and the LAPACK
 * symbols it ships). Matrices are row-major doubles. linalg.c is cblas's only home. */
#ifndef CN_LEARN_LINALG_H
#define CN_LEARN_LINALG_H
#include <stdbool.h>
#include <stddef.h>

/* Pins OpenBLAS to one thread so products sum in a fixed order (bit-for-bit results under a
 * seed). Process-wide: OpenBLAS has no per-call thread count. */
void cn_linalg_single_thread(void);
/* C = alpha * op(A) op(B) + beta * C; op(A) is m x k, op(B) k x n, C m x n (row-major). */
void cn_gemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, double alpha,
             const double *a, size_t lda, const double *b, size_t ldb, double beta, double *c,
             size_t ldc);
/* y = alpha * op(A) x + beta * y; A is m x n. */
void cn_gemv(bool trans_a, size_t m, size_t n, double alpha, const double *a, size_t lda,
             const double *x, double beta, double *y);
/* Least squares min ||A x - b|| by SVD (LAPACK dgelsd, as scipy.linalg.lstsq): the
 * minimum-norm solution when A (m x n) is rank deficient. x gets n values. Returns 0, or
 * nonzero when the SVD fails to converge. */
int cn_lstsq(size_t m, size_t n, const double *a, const double *b, double *x);
/* Solves S x = b for symmetric positive definite S (n x n) by Cholesky; b is overwritten by
 * x. Returns 0, or nonzero when S is not positive definite. */
int cn_cholesky_solve(size_t n, const double *s, double *b);
/* S = A^T A (n x n, full) for A m x n. */
void cn_gram(size_t m, size_t n, const double *a, double *s);
/* S = A A^T (m x m, full) for A m x n: the Gram matrix of the rows, for kernel (dual) solves
 * when n > m. */
void cn_gram_rows(size_t m, size_t n, const double *a, double *s);
#endif
