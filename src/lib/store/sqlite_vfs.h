/* SPDX-License-Identifier: MIT */
/* sqlite_vfs.h - the VFS shim that gathers a commit's writes to the write-ahead log into one
 * system call (sqlite_vfs.c says how and why it is safe). */
#ifndef CN_SQLITE_VFS_H
#define CN_SQLITE_VFS_H
#include <sqlite3.h>

/* Registers the shim once (not as the default) and returns its name for sqlite3_open_v2();
 * NULL when it could not be registered: then open with SQLite's default VFS. */
const char *cn_sqlite_vfs(void);
#endif
