/* SPDX-License-Identifier: MIT */
/* artifacts.c - the mlflow-artifacts proxy: list, download, upload and delete files under the
 * server's artifact root, and the run artifact listing. Every path a client sends is
 * untrusted. A path is checked as text (no "..", "." or empty segments, nothing absolute, no
 * backslash, '#', '?' or control characters, also after further rounds of %-decoding), then
 * walked one folder at a time from an open descriptor of the root with O_NOFOLLOW, so a
 * symlink planted anywhere in the tree is refused rather than followed. Uploads stream to a
 * temporary file beside their target and are renamed into place once complete: a
 * half-received file is never visible. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tracking/trk.h"
#include "base/fs.h"
#include "base/rng.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct upload {
    int dirfd;
    char tmp[64];
    char *leaf;
    char *rel;
    bool renamed;
} upload;

/* The text rules, on one decoding of the path. */
static bool rel_ok_once(const char *rel)
{
    if (!cn_path_is_safe_relative(rel))
        return false;
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++)
        if (*p == '#' || *p == '?' || *p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* rel decoded once by the glue; anything that decodes further into something unsafe is
 * refused too (clients and proxies disagree on how often to decode). */
static bool rel_ok(const char *rel)
{
    if (!rel_ok_once(rel))
        return false;
    cn_buf cur = CN_BUF_INIT;
    cn_buf_puts(&cur, rel);
    bool ok = true;
    for (int round = 0; round < 4 && strchr(cur.data, '%'); round++) {
        if (strstr(cur.data, "%00")) { /* a NUL after one more decoding */
            ok = false;
            break;
        }
        cn_buf next = CN_BUF_INIT;
        if (http_percent_decode(cur.data, cur.len, false, &next) != 0) {
            cn_buf_release(&next);
            break; /* not an escape: a literal '%' in a file name */
        }
        cn_buf_release(&cur);
        cur = next;
        if (!rel_ok_once(cur.data)) {
            ok = false;
            break;
        }
    }
    cn_buf_release(&cur);
    return ok;
}

/* Opens the folder holding the last segment of rel (walking from the root with O_NOFOLLOW,
 * creating folders when create), and points *leaf into rel at that segment. rel "" opens the
 * root itself with *leaf NULL. Returns the descriptor, or -1 with errno set (ELOOP or
 * ENOTDIR for a symlink on the way). */
static int open_parent(const char *root, const char *rel, bool create, const char **leaf)
{
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *leaf = NULL;
    if (fd < 0 || !*rel)
        return fd;
    const char *seg = rel;
    for (;;) {
        const char *slash = strchr(seg, '/');
        if (!slash) {
            *leaf = seg;
            return fd;
        }
        char name[NAME_MAX + 1];
        size_t n = (size_t)(slash - seg);
        if (n > NAME_MAX) {
            close(fd);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(name, seg, n);
        name[n] = '\0';
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, name, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
            }
            next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int e = errno;
        close(fd);
        if (next < 0) {
            errno = e;
            return -1;
        }
        fd = next;
        seg = slash + 1;
    }
}

static bool fail_path(trk_call *c, const char *rel)
{
    return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                    "Invalid path '%.200s': artifact paths are relative, without '..', '.' or "
                    "empty parts, '#', '?', backslashes or control characters",
                    rel);
}

static bool fail_errno(trk_call *c, const char *rel, int e)
{
    if (e == ENOENT || e == ENOTDIR)
        return trk_fail(c, 404, "RESOURCE_DOES_NOT_EXIST", "No artifact at '%.200s'", rel);
    if (e == ELOOP || e == EMLINK)
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                        "'%.200s' passes through a symbolic link; the server follows none", rel);
    if (e == ENOSPC || e == EDQUOT)
        return trk_fail(c, 507, "RESOURCE_EXHAUSTED",
                        "the artifact store is full (%s); free space under the artifact root",
                        strerror(e));
    if (e == ENAMETOOLONG)
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE", "'%.200s': a name is too long", rel);
    if (e == EISDIR)
        return trk_fail(c, 400, "INVALID_PARAMETER_VALUE", "'%.200s' is a folder", rel);
    return trk_fail(c, 500, "INTERNAL_ERROR", "artifact '%.200s': %s", rel, strerror(e));
}

/* Lists the folder fd into files[]; with_prefix names entries "<prefix>/<name>". */
static void write_listing(trk_call *c, int fd, const char *prefix)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            cn_str_starts(e->d_name, ".cairn-upload-"))
            continue;
        names = cn_xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = cn_xstrdup(e->d_name);
    }
    /* Sorted, so that listings are stable. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    bool opened = false;
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (fstatat(dirfd(d), names[i], &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
            !(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)))
            continue; /* symlinks and devices are not artifacts */
        if (!opened) {
            cn_jsonw_key(&c->w, "files");
            cn_jsonw_array_begin(&c->w);
            opened = true;
        }
        cn_jsonw_object_begin(&c->w);
        if (prefix && *prefix) {
            char *p = cn_asprintf("%s/%s", prefix, names[i]);
            cn_jsonw_kstring(&c->w, "path", p);
            free(p);
        } else {
            cn_jsonw_kstring(&c->w, "path", names[i]);
        }
        cn_jsonw_kbool(&c->w, "is_dir", S_ISDIR(sb.st_mode));
        if (S_ISREG(sb.st_mode))
            cn_jsonw_kint(&c->w, "file_size", (int64_t)sb.st_size);
        cn_jsonw_object_end(&c->w);
    }
    if (opened)
        cn_jsonw_array_end(&c->w);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
}

/* Opens rel (file or folder) under root without following links; -1 with errno. */
static int open_rel(const char *root, const char *rel, int flags)
{
    const char *leaf;
    int dfd = open_parent(root, rel, false, &leaf);
    if (dfd < 0 || !leaf)
        return dfd;
    int fd = openat(dfd, leaf, flags | O_NOFOLLOW | O_CLOEXEC);
    int e = errno;
    close(dfd);
    errno = e;
    return fd;
}

static void list_dir(trk_call *c, const char *rel)
{
    if (*rel && !rel_ok(rel)) {
        fail_path(c, rel);
        return;
    }
    cn_jsonw_object_begin(&c->w);
    int fd = open_rel(trk_artifact_root(c->app), rel, O_RDONLY | O_DIRECTORY);
    if (fd >= 0)
        write_listing(c, fd, NULL); /* MLflow: base names only; a missing folder is {} */
    if (!c->failed)
        cn_jsonw_object_end(&c->w);
}

static const char *mime_of(const char *name)
{
    static const struct {
        const char *ext, *mime;
    } types[] = {{".json", "application/json"},
                 {".txt", "text/plain; charset=utf-8"},
                 {".log", "text/plain; charset=utf-8"},
                 {".csv", "text/csv; charset=utf-8"},
                 {".md", "text/markdown; charset=utf-8"},
                 {".yaml", "text/plain; charset=utf-8"},
                 {".yml", "text/plain; charset=utf-8"},
                 {".png", "image/png"},
                 {".jpg", "image/jpeg"},
                 {".jpeg", "image/jpeg"},
                 {".gif", "image/gif"},
                 {".svg", "image/svg+xml"},
                 {".pdf", "application/pdf"}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (cn_str_ends(name, types[i].ext))
            return types[i].mime;
    return "application/octet-stream";
}

static void download(trk_call *c, const char *rel)
{
    int fd = open_rel(trk_artifact_root(c->app), rel, O_RDONLY | O_NONBLOCK);
    struct stat sb;
    if (fd < 0) {
        fail_errno(c, rel, errno);
        return;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        fail_errno(c, rel, S_ISDIR(sb.st_mode) ? EISDIR : ENOENT);
        return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    c->resp->fd = fd;
    c->resp->fd_size = (uint64_t)sb.st_size;
    c->resp->content_type = mime_of(base);
    cn_buf disp = CN_BUF_INIT;
    cn_buf_puts(&disp, "attachment; filename=\"");
    for (const char *p = base; *p; p++)
        cn_buf_putc(&disp, (*p == '"' || *p == '\\') ? '_' : *p);
    cn_buf_putc(&disp, '"');
    http_add_header(c->resp, "Content-Disposition", disp.data);
    http_add_header(c->resp, "X-Content-Type-Options", "nosniff");
    http_add_header(c->resp, "Content-Security-Policy", "sandbox");
    cn_buf_release(&disp);
}

static void delete_path(trk_call *c, const char *rel)
{
    const char *leaf;
    int dfd = open_parent(trk_artifact_root(c->app), rel, false, &leaf);
    if (dfd < 0) {
        fail_errno(c, rel, errno);
        return;
    }
    struct stat sb;
    if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
        int e = errno;
        close(dfd);
        fail_errno(c, rel, e);
        return;
    }
    int rc = cn_fs_remove_tree(dfd, leaf);
    int e = errno;
    close(dfd);
    if (rc != 0)
        fail_errno(c, rel, e);
}

/* "<exp>/<run>/artifacts/<path>": the run id and the path inside its artifacts, or false. */
static bool run_artifact(const char *rel, char *run_id, size_t size, const char **inner)
{
    const char *s1 = strchr(rel, '/');
    if (!s1)
        return false;
    const char *s2 = strchr(s1 + 1, '/');
    if (!s2 || !cn_str_starts(s2 + 1, "artifacts/") || (size_t)(s2 - s1 - 1) >= size)
        return false;
    memcpy(run_id, s1 + 1, (size_t)(s2 - s1 - 1));
    run_id[s2 - s1 - 1] = '\0';
    *inner = s2 + 1 + strlen("artifacts/");
    return **inner != '\0';
}

bool trk_artifacts_begin(trk_app *app, http_request *req, http_response *resp)
{
    if (strcmp(req->method, "PUT") != 0)
        return true;
    const char *path = req->path;
    const char *rel = strstr(path, "mlflow-artifacts/artifacts/");
    trk_call c = {.app = app, .req = req, .resp = resp};
    cn_jsonw_init(&c.w, NULL, 0);
    bool ok = true;
    if (!rel) {
        ok = trk_fail(&c, 400, "INVALID_PARAMETER_VALUE", "PUT needs a path after artifacts/");
    } else {
        rel += strlen("mlflow-artifacts/artifacts/");
        const char *leaf;
        int dfd = -1;
        if (!rel_ok(rel)) {
            ok = fail_path(&c, rel);
        } else if ((dfd = open_parent(trk_artifact_root(app), rel, true, &leaf)) < 0) {
            ok = fail_errno(&c, rel, errno);
        } else {
            upload *u = cn_xcalloc(1, sizeof *u);
            unsigned char rnd[8];
            char hex[17];
            cn_random_bytes(rnd, sizeof rnd);
            cn_hex(rnd, sizeof rnd, hex);
            snprintf(u->tmp, sizeof u->tmp, ".cairn-upload-%s", hex);
            int fd =
                openat(dfd, u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
            if (fd < 0) {
                ok = fail_errno(&c, rel, errno);
                close(dfd);
                free(u);
            } else {
                u->dirfd = dfd;
                u->leaf = cn_xstrdup(leaf);
                u->rel = cn_xstrdup(rel);
                req->app_state = u;
                req->sink_fd = fd;
                req->sink_limit = trk_app_config(app)->max_artifact_bytes;
            }
        }
    }
    if (!ok) {
        cn_jsonw_finish(&c.w);
        resp->body = c.w.buf;
        c.w.buf = (cn_buf)CN_BUF_INIT;
    }
    cn_jsonw_release(&c.w);
    return ok;
}

static void finish_upload(trk_call *c)
{
    http_request *req = c->req;
    upload *u = req->app_state;
    if (!u) {
        trk_fail(c, 400, "INVALID_PARAMETER_VALUE", "no upload under way");
        return;
    }
    if (req->body_too_large) {
        trk_fail(c, 413, "INVALID_PARAMETER_VALUE",
                 "'%.200s' is over the server's limit of %llu bytes per artifact "
                 "(--max-artifact-bytes)",
                 u->rel, (unsigned long long)req->sink_limit);
        return;
    }
    if (req->sink_errno) {
        fail_errno(c, u->rel, req->sink_errno);
        return;
    }
    if (fsync(req->sink_fd) != 0) {
        fail_errno(c, u->rel, errno);
        return;
    }
    struct stat sb;
    if (fstatat(u->dirfd, u->leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode)) {
        fail_errno(c, u->rel, EISDIR);
        return;
    }
    if (renameat(u->dirfd, u->tmp, u->dirfd, u->leaf) != 0) {
        fail_errno(c, u->rel, errno);
        return;
    }
    u->renamed = true;
    fsync(u->dirfd);
    /* A file inside a run's artifacts joins the run's artifact index (size and SHA-256). */
    char run_id[300];
    const char *inner;
    if (run_artifact(u->rel, run_id, sizeof run_id, &inner)) {
        int fd = openat(u->dirfd, u->leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            cn_sha256 *h = cn_sha256_new();
            char buf[1 << 16];
            ssize_t n;
            int64_t size = 0;
            while ((n = read(fd, buf, sizeof buf)) > 0) {
                cn_sha256_update(h, buf, (size_t)n);
                size += n;
            }
            char hex[65];
            cn_sha256_final(h, hex);
            close(fd);
            if (n == 0)
                (void)cairn_runs_record_artifact(c->ctx, run_id, inner, size, hex);
        }
    }
}

void trk_artifacts_finish(trk_app *app, http_request *req, bool completed)
{
    (void)app;
    (void)completed;
    upload *u = req->app_state;
    if (!u)
        return;
    if (!u->renamed)
        unlinkat(u->dirfd, u->tmp, 0);
    close(u->dirfd);
    free(u->leaf);
    free(u->rel);
    free(u);
    req->app_state = NULL;
}

void trk_artifacts_handle(trk_call *c, const char *rel)
{
    const char *m = c->req->method;
    if (*rel == '/')
        rel++;
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) {
        if (!*rel) {
            /* ".../artifacts?path=P" arrives with its query read into c->in; ".../artifacts/
             * ?path=P" without: read it here, or the listing would ignore P. */
            const char *p = NULL;
            if (c->in && !trk_str(c, "path", false, &p))
                return;
            if (!c->in)
                p = http_query_get(&c->req->query, "path");
            list_dir(c, p ? p : "");
            return;
        }
        if (!rel_ok(rel)) {
            fail_path(c, rel);
            return;
        }
        download(c, rel);
        return;
    }
    if (strcmp(m, "PUT") == 0) {
        cn_jsonw_object_begin(&c->w);
        finish_upload(c);
        if (!c->failed)
            cn_jsonw_object_end(&c->w);
        return;
    }
    if (strcmp(m, "DELETE") == 0) {
        if (!*rel) {
            trk_fail(c, 400, "INVALID_PARAMETER_VALUE",
                     "DELETE needs a path: the artifact root itself is never deleted");
            return;
        }
        if (!rel_ok(rel)) {
            fail_path(c, rel);
            return;
        }
        cn_jsonw_object_begin(&c->w);
        delete_path(c, rel);
        if (!c->failed)
            cn_jsonw_object_end(&c->w);
        return;
    }
    trk_fail(c, 405, "ENDPOINT_NOT_FOUND", "mlflow-artifacts takes GET, PUT and DELETE");
}

void trk_artifacts_list_local(trk_call *c, const char *dir, const char *path)
{
    const char *root = trk_artifact_root(c->app);
    size_t n = strlen(root);
    if (path && *path && !rel_ok(path)) {
        fail_path(c, path);
        return;
    }
    if (!dir || strncmp(dir, root, n) != 0 || (dir[n] != '/' && dir[n] != '\0'))
        return;
    const char *base = dir + n;
    while (*base == '/')
        base++;
    char *rel;
    if (path && *path)
        rel = *base ? cn_asprintf("%s/%s", base, path) : cn_xstrdup(path);
    else
        rel = cn_xstrdup(base);
    int fd = open_rel(root, rel, O_RDONLY | O_DIRECTORY);
    if (fd >= 0)
        write_listing(c, fd, path);
    free(rel);
}

/* GET mlflow/artifacts/list?run_id=&path=: the files directly under path in the run's
 * artifacts, paths relative to the run's artifact root. */
void trk_route_artifacts_list(trk_call *c)
{
    const char *id, *path;
    if (!trk_run_id(c, &id) || !trk_str(c, "path", false, &path))
        return;
    if (path && *path && !rel_ok(path)) {
        fail_path(c, path);
        return;
    }
    cairn_run_record *r = NULL;
    cairn_status st = cairn_run_get(c->ctx, id, &r);
    if (st != CAIRN_OK) {
        trk_fail_status(c, st);
        return;
    }
    char *uri = trk_artifact_uri(c->app, r->info.artifact_uri);
    cn_jsonw_kstring(&c->w, "root_uri", uri);
    if (cn_str_starts(uri, "mlflow-artifacts:/")) {
        trk_artifacts_list_local(c, r->info.artifact_uri, path);
    } else {
        /* A run made outside this server's root: its artifact index. */
        cairn_artifact_list *list = NULL;
        if (cairn_run_artifacts_list(c->ctx, id, path, &list) == CAIRN_OK && list->n) {
            cn_jsonw_key(&c->w, "files");
            cn_jsonw_array_begin(&c->w);
            for (size_t i = 0; i < list->n; i++) {
                cn_jsonw_object_begin(&c->w);
                cn_jsonw_kstring(&c->w, "path", list->items[i].path);
                cn_jsonw_kbool(&c->w, "is_dir", list->items[i].is_dir);
                if (!list->items[i].is_dir)
                    cn_jsonw_kint(&c->w, "file_size", list->items[i].size_bytes);
                cn_jsonw_object_end(&c->w);
            }
            cn_jsonw_array_end(&c->w);
        }
        cairn_artifact_list_free(list);
    }
    free(uri);
    cairn_run_record_free(r);
}
