/* SPDX-License-Identifier: MIT */
/* ctx.c - status text, the last-error buffer and the log sink of a cairn_ctx. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core.h"
#include "base/fs.h"
#include "base/xmalloc.h"
#include "base/banned.h"

cairn_ctx *cairn_ctx_new(void)
{
    cairn_ctx *ctx = cn_xcalloc(1, sizeof *ctx);
    ctx->log_max = CAIRN_LOG_WARN;
    const char *env = getenv("CAIRN_LOG");
    if (env && strcmp(env, "debug") == 0)
        ctx->log_max = CAIRN_LOG_DEBUG;
    else if (env && strcmp(env, "info") == 0)
        ctx->log_max = CAIRN_LOG_INFO;
    return ctx;
}

const char *cairn_status_str(cairn_status st)
{
    switch (st) {
    case CAIRN_OK: return "ok";
    case CAIRN_EINVAL: return "invalid argument";
    case CAIRN_ENOTFOUND: return "not found";
    case CAIRN_EEXIST: return "already exists";
    case CAIRN_EIO: return "i/o error";
    case CAIRN_EDB: return "database error";
    case CAIRN_ELIMIT: return "limit exceeded";
    case CAIRN_EINTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *cairn_errmsg(const cairn_ctx *ctx)
{
    if (!ctx)
        return "out of memory";
    return ctx->err.len ? ctx->err.data : "no error";
}

void cairn_set_log(cairn_ctx *ctx, cairn_log_fn fn, void *user, cairn_log_level max_level)
{
    ctx->log_fn = fn;
    ctx->log_user = user;
    ctx->log_max = max_level;
}

void cairn_free(void *p)
{
    free(p);
}

const char *cairn_version(void)
{
    return CAIRN_VERSION_STRING;
}

const char *cairn_store_uri(const cairn_ctx *ctx)
{
    return ctx->uri ? ctx->uri : "";
}

const char *cairn_artifact_root(const cairn_ctx *ctx)
{
    return ctx->artifact_root ? ctx->artifact_root : "";
}

static void set_err(cairn_ctx *ctx, const char *fmt, va_list ap)
{
    cn_buf_clear(&ctx->err);
    cn_buf_vprintf(&ctx->err, fmt, ap);
}

cairn_status cn_fail(cairn_ctx *ctx, cairn_status st, const char *fmt, ...)
{
    if (!ctx)
        return st;
    va_list ap;
    va_start(ap, fmt);
    set_err(ctx, fmt, ap);
    va_end(ap);
    return st;
}

cairn_status cn_fail_errno(cairn_ctx *ctx, cairn_status st, const char *fmt, ...)
{
    int e = errno;
    if (!ctx)
        return st;
    va_list ap;
    va_start(ap, fmt);
    set_err(ctx, fmt, ap);
    va_end(ap);
    cn_buf_printf(&ctx->err, ": %s", cn_fs_strerror(e));
    return st;
}

void cn_errctx(cairn_ctx *ctx, const char *fmt, ...)
{
    if (!ctx)
        return;
    cn_buf b = CN_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    cn_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    cn_buf_puts(&b, ": ");
    cn_buf_append(&b, ctx->err.data ? ctx->err.data : "", ctx->err.len);
    cn_buf_release(&ctx->err);
    ctx->err = b;
}

void cn_log(cairn_ctx *ctx, cairn_log_level level, const char *component, const char *fmt, ...)
{
    if (!ctx || !ctx->log_fn || level > ctx->log_max)
        return;
    cn_buf b = CN_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    cn_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    ctx->log_fn(ctx->log_user, level, component, cn_buf_str(&b));
    cn_buf_release(&b);
}

char *cn_login_name(void)
{
    const char *u = getenv("USER");
    if (u && *u)
        return cn_xstrdup(u);
    struct passwd *pw = getpwuid(getuid());
    return cn_xstrdup(pw && pw->pw_name ? pw->pw_name : "unknown");
}

cairn_status cn_need_store(cairn_ctx *ctx)
{
    if (!ctx->store)
        return cn_fail(ctx, CAIRN_EINVAL, "this context has no store; open one with cairn_open()");
    return CAIRN_OK;
}
