/* SPDX-License-Identifier: MIT */
/* cairn.h - the libcairn context: opening a store, status codes, errors and logging.
 * Every other public header builds on this one. */
#ifndef CAIRN_CAIRN_H
#define CAIRN_CAIRN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CAIRN_BUILDING) && defined(__GNUC__)
#define CAIRN_API __attribute__((visibility("default")))
#else
#define CAIRN_API
#endif

#define CAIRN_VERSION_MAJOR 0
#define CAIRN_VERSION_MINOR 1
#define CAIRN_VERSION_PATCH 0
#define CAIRN_VERSION_STRING "0.1.0"

/* The longest metric, param or tag key, as MLflow enforces it (mlflow/utils/validation.py). */
#define CAIRN_KEY_MAX 250

/* Every fallible call returns one of these; cairn_errmsg() has the detail. */
typedef enum cairn_status {
    CAIRN_OK = 0,
    CAIRN_EINVAL,    /* bad input: a malformed value, a violated rule */
    CAIRN_ENOTFOUND, /* the named thing does not exist */
    CAIRN_EEXIST,    /* the thing already exists */
    CAIRN_EIO,       /* file system or process I/O failed */
    CAIRN_EDB,       /* the storage backend failed */
    CAIRN_ELIMIT,    /* a size limit was exceeded */
    CAIRN_EINTERNAL  /* a bug or an impossible state */
} cairn_status;

typedef enum cairn_log_level {
    CAIRN_LOG_ERROR = 0,
    CAIRN_LOG_WARN,
    CAIRN_LOG_INFO,
    CAIRN_LOG_DEBUG
} cairn_log_level;

/* A context: one store connection, a log sink and the last error. Used by one thread at a time. */
typedef struct cairn_ctx cairn_ctx;

/* Receives the library's log lines; the library itself never prints. */
typedef void (*cairn_log_fn)(void *user, cairn_log_level level, const char *component,
                             const char *msg);

typedef struct cairn_open_opts {
    const char *artifact_root; /* NULL: a folder beside the SQLite file ("<db>-artifacts") */
    int busy_timeout_ms; /* 0: 60000; how long SQLite waits on a lock held by another process */
    bool read_only;      /* open without writing; a store that needs migrations is refused */
    bool must_exist;     /* SQLite: fail rather than create a missing file (URI mode=rw) */
    bool immutable;      /* SQLite: the file cannot change while open (read-only media); no
                            locks, no -wal/-shm files; implies read_only (URI immutable=1) */
    bool background_checkpoint; /* SQLite: commits never copy the write-ahead log back into the
                                   database themselves; a thread of the context does it on a
                                   connection of its own (for a writer whose commit latency
                                   matters, such as the server's group commit) */
} cairn_open_opts;
#define CAIRN_OPEN_OPTS_INIT                                                                       \
    {                                                                                              \
        0                                                                                          \
    }

/* Opens the store named by uri: "sqlite:///abs/path.db", "sqlite://rel/path.db", a plain file
 * path (SQLite), or "postgresql://user@host/db" (also "postgres://"). NULL or "" uses
 * $CAIRN_STORE, else "sqlite://cairn.db" in the current directory. A sqlite: URI may end in
 * options, "?mode=ro|rw|rwc&immutable=1&busy_timeout_ms=N" (they override opts; an unknown one
 * is EINVAL); a postgresql: URI's parameters are libpq's. Nothing is written before the store
 * is known to be cairn's: a database with other tables and no cairn_schema, or one written by
 * a newer cairn, is refused unchanged. A SQLite file or folder that is not writable opens
 * read-only. Then pending migrations are applied (a read-only store that needs them is
 * refused: open it writable once).
 * On success *out is a new context freed with cairn_close(). On failure *out is still a
 * context (so the message can be read with cairn_errmsg) unless memory ran out; close it too. */
CAIRN_API cairn_status cairn_open(const char *uri, const cairn_open_opts *opts, cairn_ctx **out);
CAIRN_API void cairn_close(cairn_ctx *ctx); /* NULL is a no-op */
/* The result of cairn_store_check(): problems as data, one line each. */
typedef struct cairn_store_report {
    const char *uri;        /* the store checked (a postgresql password shown as ***) */
    int64_t schema_version; /* the newest migration the store records; 0: none */
    int64_t schema_known;   /* the newest migration this cairn knows */
    size_t n_problems;      /* 0: the store is sound */
    const char *const *problems;
    void *internal_; /* owned memory; do not touch */
} cairn_store_report;

/* Checks the store named by uri (NULL or "": as cairn_open) without writing to it: SQLite's
 * integrity check (pages, b-trees, indexes), that it is cairn's (cairn_schema), that its
 * schema is one this cairn knows, that every migration it records is this cairn's and every
 * table they create exists. ctx is any context (cairn_ctx_new()); a store that cannot be
 * opened at all is an error, anything found inside it is a problem in *out, freed with
 * cairn_store_report_free(). */
CAIRN_API cairn_status cairn_store_check(cairn_ctx *ctx, const char *uri, cairn_store_report **out);
CAIRN_API void cairn_store_report_free(cairn_store_report *report); /* NULL is a no-op */

/* A context with no store, for learning and evaluation (learn.h, eval.h); closed the same way. */
CAIRN_API cairn_ctx *cairn_ctx_new(void);

/* Static text naming a status: "ok", "invalid argument", ... */
CAIRN_API const char *cairn_status_str(cairn_status st);
/* The detail of the last failure on ctx; owned by ctx until its next call. Never NULL. */
CAIRN_API const char *cairn_errmsg(const cairn_ctx *ctx);
CAIRN_API void cairn_set_log(cairn_ctx *ctx, cairn_log_fn fn, void *user,
                             cairn_log_level max_level);
/* Frees memory the library handed to the caller as char * or a plain array. NULL is a no-op. */
CAIRN_API void cairn_free(void *p);
/* The store's URI and artifact root as opened (borrowed). */
CAIRN_API const char *cairn_store_uri(const cairn_ctx *ctx);
CAIRN_API const char *cairn_artifact_root(const cairn_ctx *ctx);
CAIRN_API const char *cairn_version(void);

#ifdef __cplusplus
}
#endif
#endif
