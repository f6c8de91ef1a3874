/* SPDX-License-Identifier: MIT */
/* core.h - the context's insides and the error and log plumbing every module uses:
 * return cn_fail(ctx, CAIRN_EINVAL, "param '%s': low > high", name); */
#ifndef CN_CORE_H
#define CN_CORE_H
#include "cairn/cairn.h"
#include "base/buf.h"

struct cn_store;

struct cairn_ctx {
    cn_buf err; /* the last error message */
    cairn_log_fn log_fn;
    void *log_user;
    cairn_log_level log_max;
    struct cn_store *store; /* NULL for a context without a store */
    char *uri;
    char *artifact_root;
};

/* Records a message as the context's error and returns st. */
cairn_status cn_fail(cairn_ctx *ctx, cairn_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, appending ": <strerror(errno)>" (errno read before anything else). */
cairn_status cn_fail_errno(cairn_ctx *ctx, cairn_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes the current error with context: "study 'x': " + message. */
void cn_errctx(cairn_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cn_log(cairn_ctx *ctx, cairn_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Who runs this process, for the user of runs and registry moves: $USER, else the password
 * entry of the uid, else "unknown". The caller frees. */
char *cn_login_name(void);
/* The store of a context, or an EINVAL failure when it has none. */
cairn_status cn_need_store(cairn_ctx *ctx);
/* Defines the destructor `void fn(type *x)` of a result whose memory, x included, is the arena
 * x->internal_ (NULL is a no-op). Needs base/arena.h where it is used. */
#define CN_DEFINE_ARENA_FREE(fn, type)                                                             \
    void fn(type *x)                                                                               \
    {                                                                                              \
        if (x)                                                                                     \
            cn_arena_free(x->internal_);                                                           \
    }
#endif
