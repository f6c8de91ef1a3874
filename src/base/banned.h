/* SPDX-License-Identifier: MIT */
/* banned.h - functions that invite overflows or hidden state; included by every cairn source
 * file after the system headers (git's banned.h). Use cn_strlcpy, cn_asprintf, strtoll. */
#ifndef CN_BANNED_H
#define CN_BANNED_H
#undef strcpy
#define strcpy(...) cn_banned_strcpy
#undef strcat
#define strcat(...) cn_banned_strcat
#undef sprintf
#define sprintf(...) cn_banned_sprintf
#undef vsprintf
#define vsprintf(...) cn_banned_vsprintf
#undef gets
#define gets(...) cn_banned_gets
#undef strtok
#define strtok(...) cn_banned_strtok
#undef atoi
#define atoi(...) cn_banned_atoi
#undef atof
#define atof(...) cn_banned_atof
#undef rand
#define rand(...) cn_banned_rand
#endif
