/* SPDX-License-Identifier: MIT */
/* fs.h - file system helpers: read a whole file, write atomically, make folders, copy.
 * They return 0 or -1 with errno set; callers turn that into a cairn_status with context. */
#ifndef CN_FS_H
#define CN_FS_H
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* Opens a file the user named, refusing anything but a regular file without blocking on it (a
 * FIFO or a device would hang open() or read()): opens with O_NONBLOCK | O_CLOEXEC | flags,
 * checks fstat, then clears O_NONBLOCK. Returns the descriptor, or -1 with errno set; a file
 * that is not regular gives errno CN_FS_ENOTREG (use cn_fs_strerror() for messages). */
int cn_fs_open_regular(const char *path, int flags);
#ifdef EFTYPE
#define CN_FS_ENOTREG EFTYPE
#else
#define CN_FS_ENOTREG EMEDIUMTYPE /* Linux has no EFTYPE; open() never returns this one */
#endif
/* strerror(e), except CN_FS_ENOTREG reads "not a regular file". */
const char *cn_fs_strerror(int e);
/* Reads a whole regular file (cn_fs_open_regular); E2BIG over max_bytes when max_bytes > 0. */
int cn_fs_read_file(const char *path, cn_buf *out, size_t max_bytes);
/* Reads fd to its end, handing each chunk to each(user, p, n); stops at a read error or at the
 * first nonzero return of each (which sets errno) and returns -1 with errno set then. */
int cn_fs_read_fd(int fd, int (*each)(void *user, const void *p, size_t n), void *user);
/* Writes via a temporary file, fsync and rename, so readers never see half a file. */
int cn_fs_write_atomic(const char *path, const void *data, size_t len);
int cn_fs_mkdirs(const char *path, unsigned mode);     /* mkdir -p */
int cn_fs_copy_file(const char *src, const char *dst); /* creates dst's parent folders */
/* Removes name (relative to the folder dfd, or AT_FDCWD) and, when it is a folder, everything
 * under it, never following a symbolic link (a link is removed, not its target). */
int cn_fs_remove_tree(int dfd, const char *name);
bool cn_fs_is_dir(const char *path);
bool cn_fs_exists(const char *path);
/* Joins two path parts with one '/'. The caller frees. */
char *cn_path_join(const char *a, const char *b);
/* True when rel is a safe relative path: not absolute, no "..", "." or empty segments, no NUL,
 * no backslash. Used for every path a client sends. */
bool cn_path_is_safe_relative(const char *rel);
#endif
