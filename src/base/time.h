/* SPDX-License-Identifier: MIT */
/* time.h - wall and monotonic clocks in milliseconds and nanoseconds. */
#ifndef CN_TIME_H
#define CN_TIME_H
#include <stdint.h>

int64_t cn_now_ms(void);  /* wall clock, Unix epoch milliseconds */
int64_t cn_mono_ns(void); /* monotonic clock */
#endif
