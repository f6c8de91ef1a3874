/* SPDX-License-Identifier: MIT */
/* rng.h - a seeded pseudo-random generator (xoshiro256**, seeded by splitmix64). There is no
 * global RNG: every user owns a cn_rng, so results are reproducible under a seed. */
#ifndef CN_RNG_H
#define CN_RNG_H
#include <stdint.h>

typedef struct cn_rng {
    uint64_t s[4];
} cn_rng;

void cn_rng_seed(cn_rng *r, uint64_t seed);
uint64_t cn_rng_u64(cn_rng *r);
double cn_rng_uniform(cn_rng *r);             /* [0, 1) */
uint64_t cn_rng_below(cn_rng *r, uint64_t n); /* [0, n), unbiased; n > 0 */
double cn_rng_normal(cn_rng *r);              /* standard normal */
/* Fills out with 16 random bytes from the OS (getrandom), for ids. */
void cn_random_bytes(void *out, unsigned n);
#endif
