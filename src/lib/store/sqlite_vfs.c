/* SPDX-License-Identifier: MIT */
/* sqlite_vfs.c - a VFS shim over SQLite's default one that gathers the writes of a commit to
 * the write-ahead log into one system call.
 *
 * SQLite writes every frame of a commit to the WAL file with two pwrite() calls (the 24-byte
 * frame header, then the page), so a commit touching 20 pages makes 40 system calls; on a
 * virtual machine each costs several microseconds, and the tracking server's group writer spent
 * a third of its time there. The shim gathers the writes to a WAL file that follow on from
 * each other (the frames of a transaction) in a buffer, and writes it:
 *
 * - with the page of a commit frame (the frame header says which frame commits): the commit's
 *   last write, whose failure (a full disk) SQLite sees and answers by failing the commit,
 *   before it publishes the new frames to readers in the shared-memory index;
 * - before any other operation on the WAL file (read, sync, truncate, size, close, a write
 *   that does not follow on, which then goes straight through);
 * - before any operation on a database file by the same thread (the shared-memory index is
 *   the database file's: xShmBarrier, xShmLock), so frames of a transaction that spilled
 *   pages before its commit are written before anything could read them.
 *
 * A connection is used by one thread for the length of a call into SQLite (cairn opens its
 * connections with SQLITE_OPEN_NOMUTEX and never shares one between threads at once), and a
 * commit writes its frames and publishes them within one call, so the buffer pending in a
 * thread belongs to the connection that thread is running. Durability is unchanged: with
 * synchronous=NORMAL SQLite does not sync the WAL at commit anyway, and every sync is preceded
 * by the buffer's write. A crash with a buffer pending loses only frames no reader was told of:
 * an uncommitted transaction, as without the shim. */
#include "store/sqlite_vfs.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "base/xmalloc.h"
#include "base/banned.h"

#define SHIM_NAME "cairn-unix"
/* Writes beyond this many bytes go out at once rather than grow the buffer further. */
#define SHIM_BUF_MAX (4u << 20)
/* The most one write to the real file carries. */
#define SHIM_WRITE_MAX (64u << 10)
/* A WAL frame's header; a commit frame's has the database size after the commit in bytes 4-7
 * (zero in other frames). */
#define WAL_FRAME_HEADER 24

typedef struct shim_file {
    sqlite3_file base; /* first: SQLite sees this */
    sqlite3_file *real;
    bool wal;
    /* WAL files: the pending bytes, to go to offset `off` */
    unsigned char *buf;
    size_t len, cap;
    sqlite3_int64 off;
    sqlite3_int64 next; /* where the last write through this handle ended */
    bool commit_page;   /* the next write is the page of a commit frame */
} shim_file;

static sqlite3_vfs shim_vfs;
static sqlite3_vfs *root_vfs;
static sqlite3_io_methods shim_io;
static _Thread_local shim_file *tl_pending; /* this thread's WAL file with bytes pending */

static int wal_flush(shim_file *f)
{
    int rc = SQLITE_OK;
    /* SQLite's unix VFS writes at most 128 KiB - 1 per call: hand it less at a time. */
    for (size_t done = 0; done < f->len && rc == SQLITE_OK; done += SHIM_WRITE_MAX) {
        size_t n = f->len - done < SHIM_WRITE_MAX ? f->len - done : SHIM_WRITE_MAX;
        rc =
            f->real->pMethods->xWrite(f->real, f->buf + done, (int)n, f->off + (sqlite3_int64)done);
    }
    f->len = 0;
    if (tl_pending == f)
        tl_pending = NULL;
    return rc;
}

/* Writes what this thread has pending, before an operation on a database file. */
static int flush_pending(void)
{
    return tl_pending ? wal_flush(tl_pending) : SQLITE_OK;
}

/* The operations every file does first: a WAL file writes its own buffer, a database file
 * the buffer of its connection's WAL. */
static int before(shim_file *f)
{
    return f->wal ? wal_flush(f) : flush_pending();
}

static int shim_close(sqlite3_file *file)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    free(f->buf);
    f->buf = NULL;
    if (tl_pending == f)
        tl_pending = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int shim_read(sqlite3_file *file, void *out, int n, sqlite3_int64 off)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, n, off);
}

static int shim_write(sqlite3_file *file, const void *data, int n, sqlite3_int64 off)
{
    shim_file *f = (shim_file *)file;
    if (!f->wal) {
        int rc = flush_pending();
        return rc != SQLITE_OK ? rc : f->real->pMethods->xWrite(f->real, data, n, off);
    }
    /* Only writes that follow on from the last one are gathered (the frames of a
     * transaction); anything else (the header of a new log, a frame rewritten in place)
     * goes out at once, after what is pending, so its failure is SQLite's to see. */
    bool follows = off == f->next && f->len + (size_t)n <= SHIM_BUF_MAX;
    f->next = off + n;
    if (!follows) {
        int rc = wal_flush(f);
        f->commit_page = false;
        return rc != SQLITE_OK ? rc : f->real->pMethods->xWrite(f->real, data, n, off);
    }
    if (tl_pending && tl_pending != f) { /* another WAL's bytes (another connection's) */
        int rc = wal_flush(tl_pending);
        if (rc != SQLITE_OK)
            return rc;
    }
    if (f->len == 0)
        f->off = off;
    if (f->len + (size_t)n > f->cap) {
        size_t cap = f->cap ? f->cap : 64u << 10;
        while (cap < f->len + (size_t)n)
            cap *= 2;
        f->buf = cn_xrealloc(f->buf, cap);
        f->cap = cap;
    }
    memcpy(f->buf + f->len, data, (size_t)n);
    f->len += (size_t)n;
    tl_pending = f;
    /* The commit frame is the transaction's last write: everything goes out with its page,
     * and a failure (a full disk) fails the commit, before any reader is told of it. */
    if (f->commit_page) {
        f->commit_page = false;
        return wal_flush(f);
    }
    if (n == WAL_FRAME_HEADER) {
        const unsigned char *h = data;
        f->commit_page = (h[4] | h[5] | h[6] | h[7]) != 0;
    }
    return SQLITE_OK;
}

static int shim_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int shim_sync(sqlite3_file *file, int flags)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int shim_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int shim_lock(sqlite3_file *file, int level)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xLock(f->real, level);
}

static int shim_unlock(sqlite3_file *file, int level)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xUnlock(f->real, level);
}

static int shim_check_reserved(sqlite3_file *file, int *out)
{
    shim_file *f = (shim_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int shim_file_control(sqlite3_file *file, int op, void *arg)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    if (rc != SQLITE_OK)
        return rc;
    rc = f->real->pMethods->xFileControl(f->real, op, arg);
    if (rc == SQLITE_OK && op == SQLITE_FCNTL_VFSNAME) { /* "cairn-unix/unix" */
        char **name = arg;
        char *s = sqlite3_mprintf("%s/%z", SHIM_NAME, *name);
        *name = s;
    }
    return rc;
}

static int shim_sector_size(sqlite3_file *file)
{
    shim_file *f = (shim_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int shim_device_characteristics(sqlite3_file *file)
{
    shim_file *f = (shim_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int shim_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int shim_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void shim_shm_barrier(sqlite3_file *file)
{
    shim_file *f = (shim_file *)file;
    /* The frames must be written before readers can learn of them; a failed write here
     * cannot be returned, but it leaves the bytes pending for the next operation's try. */
    before(f);
    f->real->pMethods->xShmBarrier(f->real);
}

static int shim_shm_unmap(sqlite3_file *file, int delete_flag)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int shim_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **out)
{
    shim_file *f = (shim_file *)file;
    int rc = before(f);
    return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, off, n, out);
}

static int shim_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
    shim_file *f = (shim_file *)file;
    return f->real->pMethods->xUnfetch(f->real, off, p);
}

static int shim_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                     int *out_flags)
{
    (void)vfs;
    shim_file *f = (shim_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(void *)(f + 1);
    int rc = root_vfs->xOpen(root_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        f->base.pMethods = NULL; /* SQLite then does not call xClose */
        return rc;
    }
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->next = -1; /* the first write goes straight through */
    f->base.pMethods = f->real->pMethods ? &shim_io : NULL;
    return SQLITE_OK;
}

/* The VFS-level calls pass straight to the default VFS. */
static int shim_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    (void)v;
    return root_vfs->xDelete(root_vfs, name, sync_dir);
}
static int shim_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return root_vfs->xAccess(root_vfs, name, flags, out);
}
static int shim_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return root_vfs->xFullPathname(root_vfs, name, n, out);
}
static void *shim_dlopen(sqlite3_vfs *v, const char *name)
{
    (void)v;
    return root_vfs->xDlOpen(root_vfs, name);
}
static void shim_dlerror(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    root_vfs->xDlError(root_vfs, n, out);
}
static void (*shim_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    (void)v;
    return root_vfs->xDlSym(root_vfs, h, sym);
}
static void shim_dlclose(sqlite3_vfs *v, void *h)
{
    (void)v;
    root_vfs->xDlClose(root_vfs, h);
}
static int shim_randomness(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return root_vfs->xRandomness(root_vfs, n, out);
}
static int shim_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return root_vfs->xSleep(root_vfs, us);
}
static int shim_current_time(sqlite3_vfs *v, double *out)
{
    (void)v;
    return root_vfs->xCurrentTime(root_vfs, out);
}
static int shim_last_error(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return root_vfs->xGetLastError ? root_vfs->xGetLastError(root_vfs, n, out) : 0;
}
static int shim_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
    (void)v;
    return root_vfs->xCurrentTimeInt64(root_vfs, out);
}

static int register_rc = SQLITE_ERROR;

static void shim_register(void)
{
    /* No global allocation statistics: with them every allocation inside SQLite takes one
     * process-wide mutex, which the tracking server's writer, checkpointer and readers then
     * share. cairn never reads them (sqlite3_memory_used). Refused without harm if the program
     * has already initialized SQLite itself. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    root_vfs = sqlite3_vfs_find(NULL);
    if (!root_vfs || root_vfs->iVersion < 2)
        return;
    shim_io = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = shim_close,
        .xRead = shim_read,
        .xWrite = shim_write,
        .xTruncate = shim_truncate,
        .xSync = shim_sync,
        .xFileSize = shim_file_size,
        .xLock = shim_lock,
        .xUnlock = shim_unlock,
        .xCheckReservedLock = shim_check_reserved,
        .xFileControl = shim_file_control,
        .xSectorSize = shim_sector_size,
        .xDeviceCharacteristics = shim_device_characteristics,
        .xShmMap = shim_shm_map,
        .xShmLock = shim_shm_lock,
        .xShmBarrier = shim_shm_barrier,
        .xShmUnmap = shim_shm_unmap,
        .xFetch = shim_fetch,
        .xUnfetch = shim_unfetch,
    };
    shim_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(shim_file) + root_vfs->szOsFile,
        .mxPathname = root_vfs->mxPathname,
        .zName = SHIM_NAME,
        .xOpen = shim_open,
        .xDelete = shim_delete,
        .xAccess = shim_access,
        .xFullPathname = shim_full_pathname,
        .xDlOpen = shim_dlopen,
        .xDlError = shim_dlerror,
        .xDlSym = shim_dlsym,
        .xDlClose = shim_dlclose,
        .xRandomness = shim_randomness,
        .xSleep = shim_sleep,
        .xCurrentTime = shim_current_time,
        .xGetLastError = shim_last_error,
        .xCurrentTimeInt64 = shim_current_time_int64,
    };
    register_rc = sqlite3_vfs_register(&shim_vfs, 0);
}

const char *cn_sqlite_vfs(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, shim_register);
    return register_rc == SQLITE_OK ? SHIM_NAME : NULL;
}
