/* SPDX-License-Identifier: MIT */
/* embedded.h - files compiled into the binary by tools/embed.c (schema migrations, web UI). */
#ifndef CN_EMBEDDED_H
#define CN_EMBEDDED_H
#include <stddef.h>

typedef struct cn_embedded_file {
    const char *path; /* relative to the embedded folder, '/'-separated; NULL ends the table */
    const unsigned char *data; /* NUL-terminated */
    size_t len;
} cn_embedded_file;
#endif
