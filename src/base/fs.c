/* SPDX-License-Identifier: MIT */
/* fs.c - file system helpers. Every file a user names is opened through cn_fs_open_regular, so
 * a FIFO or a device is refused instead of blocking the caller forever. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fs.h"
#include "rng.h"
#include "str.h"
#include "xmalloc.h"
#include "banned.h"

int cn_fs_read_fd(int fd, int (*each)(void *user, const void *p, size_t n), void *user)
{
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -1 : 0;
        if (each(user, chunk, (size_t)n) != 0)
            return -1;
    }
}

typedef struct bounded {
    cn_buf *out;
    size_t max_bytes;
} bounded;

static int append_bounded(void *user, const void *p, size_t n)
{
    bounded *b = user;
    if (b->max_bytes && b->out->len + n > b->max_bytes) {
        errno = E2BIG;
        return -1;
    }
    cn_buf_append(b->out, p, n);
    return 0;
}

int cn_fs_open_regular(const char *path, int flags)
{
    int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    int e = 0;
    if (fstat(fd, &st) != 0)
        e = errno;
    else if (!S_ISREG(st.st_mode))
        e = CN_FS_ENOTREG;
    else if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        e = errno;
    if (e != 0) {
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

const char *cn_fs_strerror(int e)
{
    return e == CN_FS_ENOTREG ? "not a regular file" : strerror(e);
}

int cn_fs_read_file(const char *path, cn_buf *out, size_t max_bytes)
{
    int fd = cn_fs_open_regular(path, O_RDONLY);
    if (fd < 0)
        return -1;
    bounded b = {out, max_bytes};
    int rc = cn_fs_read_fd(fd, append_bounded, &b);
    int e = errno;
    close(fd);
    errno = e;
    if (rc != 0)
        return -1;
    if (!out->data)
        cn_buf_append(out, "", 0);
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int cn_fs_write_atomic(const char *path, const void *data, size_t len)
{
    unsigned char r[6];
    char hex[13];
    cn_random_bytes(r, sizeof r);
    cn_hex(r, sizeof r, hex);
    char *tmp = cn_asprintf("%s.tmp-%s", path, hex);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        errno = e;
        return -1;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        errno = e;
        return -1;
    }
    free(tmp);
    return 0;
}

int cn_fs_mkdirs(const char *path, unsigned mode)
{
    char *p = cn_xstrdup(path);
    size_t len = strlen(p);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
            int e = errno;
            free(p);
            errno = e;
            return -1;
        }
        p[i] = saved;
    }
    free(p);
    if (!cn_fs_is_dir(path)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static int write_chunk(void *user, const void *p, size_t n)
{
    return write_all(*(int *)user, p, n);
}

int cn_fs_copy_file(const char *src, const char *dst)
{
    int in = cn_fs_open_regular(src, O_RDONLY);
    if (in < 0)
        return -1;
    char *parent = cn_xstrdup(dst);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (cn_fs_mkdirs(parent, 0755) != 0) {
            int e = errno;
            free(parent);
            close(in);
            errno = e;
            return -1;
        }
    }
    free(parent);
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        return -1;
    }
    int rc = cn_fs_read_fd(in, write_chunk, &out);
    int e = errno;
    if (close(out) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    close(in);
    errno = e;
    return rc;
}

bool cn_fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool cn_fs_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

char *cn_path_join(const char *a, const char *b)
{
    if (!a || !*a)
        return cn_xstrdup(b);
    if (!b || !*b)
        return cn_xstrdup(a);
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (*b == '/')
        b++;
    return cn_asprintf("%.*s/%s", (int)la, a, b);
}

bool cn_path_is_safe_relative(const char *rel)
{
    if (!rel || !*rel || rel[0] == '/')
        return false;
    const char *seg = rel;
    for (const char *p = rel;; p++) {
        if (*p == '\\')
            return false;
        if (*p == '/' || *p == '\0') {
            size_t n = (size_t)(p - seg);
            if (n == 0 && *p == '/')
                return false;
            if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;
            if (*p == '\0')
                return n > 0;
            seg = p + 1;
        }
    }
}

int cn_fs_remove_tree(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return unlinkat(dfd, name, 0); /* a file or a symlink: the link itself goes */
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            rc |= cn_fs_remove_tree(dirfd(d), e->d_name);
    closedir(d);
    return rc ? rc : unlinkat(dfd, name, AT_REMOVEDIR);
}
