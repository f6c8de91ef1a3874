/* SPDX-License-Identifier: MIT */
/* sobol.c - the quasi-Monte Carlo sampler: trial n takes point n of a Sobol' sequence (Joe
 * and Kuo's direction numbers, Gray-code order, as SciPy's qmc.Sobol), one dimension per
 * non-constant parameter, optionally scrambled by a random linear matrix scramble plus a
 * digital shift (Matoušek 1998; what SciPy does), which keeps the (t, m, s)-net property. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hpo/hpo_internal.h"
#include "hpo/sobol_table.h"
#include "core/core.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define BITS 32

typedef struct sobol {
    size_t n_dims;
    uint32_t (*v)[BITS];    /* direction numbers per dimension, v[d][k] for bit k of the index */
    uint32_t (*rows)[BITS]; /* scramble: row i of a lower-triangular matrix, MSB first */
    uint32_t *shift;        /* scramble: digital shift */
    bool scramble;
} sobol;

static void directions(uint32_t dim, uint32_t v[BITS])
{
    if (dim == 0) {
        for (int k = 0; k < BITS; k++)
            v[k] = 1u << (BITS - 1 - k);
        return;
    }
    uint32_t poly = cn_sobol_poly[dim];
    int s = 0;
    while ((poly >> (s + 1)) != 0)
        s++;
    uint32_t m[BITS + 1];
    for (int k = 1; k <= s && k <= BITS; k++)
        m[k] = cn_sobol_m[dim][k - 1];
    /* m_k = m_{k-s} ^ (m_{k-s} << s) ^ sum_{i=1}^{s-1} a_i (m_{k-i} << i), a_i the
     * coefficient of x^{s-i} (Bratley and Fox 1988). */
    for (int k = s + 1; k <= BITS; k++) {
        uint32_t x = m[k - s] ^ (m[k - s] << s);
        for (int i = 1; i < s; i++)
            if ((poly >> (s - i)) & 1u)
                x ^= m[k - i] << i;
        m[k] = x;
    }
    for (int k = 1; k <= BITS; k++)
        v[k - 1] = m[k] << (BITS - k);
}

uint32_t cn_sobol_point(uint32_t dim, uint64_t index)
{
    uint32_t v[BITS];
    directions(dim, v);
    uint64_t gray = index ^ (index >> 1);
    uint32_t x = 0;
    for (int k = 0; k < BITS && gray; k++, gray >>= 1)
        if (gray & 1)
            x ^= v[k];
    return x;
}

static uint32_t parity(uint32_t x)
{
    return (uint32_t)__builtin_parity(x);
}

static void sobol_free(cairn_sampler *s)
{
    sobol *q = s->impl;
    if (!q)
        return;
    free(q->v);
    free(q->rows);
    free(q->shift);
    free(q);
}

static cairn_status sobol_create(cairn_sampler *s, cn_spec *spec)
{
    bool scramble = true;
    cairn_status rc = cn_spec_bool(s->ctx, spec, "scramble", &scramble);
    if (rc == CAIRN_OK)
        rc = cn_spec_check_used(s->ctx, "sampler", spec, "scramble");
    if (rc != CAIRN_OK)
        return rc;
    size_t dims = 0;
    for (size_t i = 0; i < s->space->n; i++)
        dims += s->space->params[i].type != CAIRN_SPACE_PARAM_CONST;
    if (dims > CN_SOBOL_MAX_DIMS)
        return cn_fail(s->ctx, CAIRN_ELIMIT, "sampler 'sobol': %zu parameters; at most %d", dims,
                       CN_SOBOL_MAX_DIMS);
    sobol *q = cn_xcalloc(1, sizeof *q);
    s->impl = q;
    q->n_dims = dims;
    q->scramble = scramble;
    q->v = cn_xcalloc(dims ? dims : 1, sizeof *q->v);
    q->rows = cn_xcalloc(dims ? dims : 1, sizeof *q->rows);
    q->shift = cn_xcalloc(dims ? dims : 1, sizeof *q->shift);
    cn_rng r;
    cn_hpo_rng(&r, s->seed, -1, 2);
    for (size_t d = 0; d < dims; d++) {
        directions((uint32_t)d, q->v[d]);
        for (int i = 0; i < BITS; i++) {
            /* Row i (output bit 31 - i): the diagonal bit, plus random bits of the more
             * significant input digits, so the first k output digits depend only on the first
             * k input digits and bijectively. */
            uint32_t diag = 1u << (BITS - 1 - i);
            uint32_t above = (uint32_t) ~((2ull << (BITS - 1 - i)) - 1);
            q->rows[d][i] = diag | ((uint32_t)cn_rng_u64(&r) & above);
        }
        q->shift[d] = (uint32_t)cn_rng_u64(&r);
    }
    return CAIRN_OK;
}

static uint32_t point(const sobol *q, size_t d, uint64_t index)
{
    uint64_t gray = index ^ (index >> 1);
    uint32_t x = 0;
    for (int k = 0; k < BITS && gray; k++, gray >>= 1)
        if (gray & 1)
            x ^= q->v[d][k];
    if (!q->scramble)
        return x;
    uint32_t y = 0;
    for (int i = 0; i < BITS; i++)
        y |= parity(x & q->rows[d][i]) << (BITS - 1 - i);
    return y ^ q->shift[d];
}

static cairn_status sobol_ask(cairn_sampler *s, const cairn_history *h, int64_t number,
                              double *params)
{
    (void)h;
    const sobol *q = s->impl;
    const cairn_space *sp = s->space;
    if ((uint64_t)number >= (1ull << BITS))
        return cn_fail(s->ctx, CAIRN_ELIMIT, "sampler 'sobol': more than 2^32 points");
    double *u = cn_xcalloc(sp->n ? sp->n : 1, sizeof *u);
    for (size_t i = 0, d = 0; i < sp->n; i++)
        if (sp->params[i].type != CAIRN_SPACE_PARAM_CONST)
            u[i] = point(q, d++, (uint64_t)number) / 4294967296.0;
    for (size_t i = 0; i < sp->n; i++)
        params[i] = NAN;
    for (size_t k = 0; k < sp->n; k++) {
        size_t i = sp->order[k];
        if (cn_space_active(sp, i, params))
            params[i] = cn_param_from_unit(&sp->params[i], u[i]);
    }
    free(u);
    return CAIRN_OK;
}

const cn_sampler_ops cn_sampler_sobol_ops = {"sobol", sobol_create, sobol_ask, sobol_free};
