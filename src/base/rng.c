/* SPDX-License-Identifier: MIT */
/* rng.c - xoshiro256** (Blackman and Vigna 2018) with splitmix64 seeding. */
#include <math.h>
#include <stdio.h>
#include <sys/random.h>
#include "rng.h"
#include "xmalloc.h"
#include "banned.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void cn_rng_seed(cn_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t cn_rng_u64(cn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double cn_rng_uniform(cn_rng *r)
{
    return (double)(cn_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t cn_rng_below(cn_rng *r, uint64_t n)
{
    CN_ASSERT(n > 0);
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = cn_rng_u64(r);
    while (x >= limit);
    return x % n;
}

double cn_rng_normal(cn_rng *r)
{
    /* Box-Muller; draws two uniforms per call to stay stateless. */
    double u1 = cn_rng_uniform(r), u2 = cn_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void cn_random_bytes(void *out, unsigned n)
{
    unsigned char *p = out;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got <= 0)
            CN_BUG("getrandom failed");
        p += got;
        n -= (unsigned)got;
    }
}
