/* SPDX-License-Identifier: MIT */
/* context.c - cairn_run_capture_context: the code (git commit, branch, remote, dirty flag,
 * diff, untracked files), the machine (host, OS, CPU, memory, GPUs), the user, allow-listed
 * environment variables, the seed and full digests of input files, recorded on a run. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cairn/tracking.h"
#include "tracking/context.h"
#include "core/core.h"
#include "core/key.h"
#include "core/text.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

extern char **environ;

#define GIT_DIFF_MAX_BYTES (64u << 20)
#define SMALL_OUTPUT_MAX 65536

/* Recorded when set; users add more with --env NAME / cairn_context_opts.env_names. */
static const char *const default_env_names[] = {
    "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS",    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED",     "CUBLAS_WORKSPACE_CONFIG",
    "VIRTUAL_ENV",          "CONDA_DEFAULT_ENV",  "CONDA_PREFIX",
    "SLURM_JOB_ID",         "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID",
    "SLURM_JOB_NODELIST",   "PBS_JOBID",          "LSB_JOBID",
};

int cn_context_exec_capture(const char *const *argv, size_t max_bytes, cn_buf *out, bool *truncated)
{
    int fds[2];
    posix_spawn_file_actions_t fa;
    pid_t pid;
    if (truncated)
        *truncated = false;
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    int e = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (e != 0) {
        close(fds[0]);
        return -1;
    }
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t room = out->len < max_bytes ? max_bytes - out->len : 0;
        size_t take = (size_t)n < room ? (size_t)n : room;
        cn_buf_append(out, chunk, take);
        if (take < (size_t)n && truncated)
            *truncated = true;
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool shell_safe(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') ||
              strchr("_-.,/:=+@%", *s)))
            return false;
    return true;
}

void cn_context_quote_argv(cn_buf *out, const char *const *argv, size_t argc)
{
    for (size_t i = 0; i < argc; i++) {
        if (i)
            cn_buf_putc(out, ' ');
        if (shell_safe(argv[i])) {
            cn_buf_puts(out, argv[i]);
            continue;
        }
        cn_buf_putc(out, '\'');
        for (const char *p = argv[i]; *p; p++) {
            if (*p == '\'')
                cn_buf_puts(out, "'\\''");
            else
                cn_buf_putc(out, *p);
        }
        cn_buf_putc(out, '\'');
    }
}

/* Appends text[0 .. n) with each byte a key may not hold, and each byte of an invalid UTF-8
 * sequence, replaced by '_'. */
static void put_key_segment(cn_buf *out, const char *text, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t valid = i + cn_text_utf8_end(text + i, n - i);
        for (; i < valid; i++) {
            unsigned char c = (unsigned char)text[i];
            cn_buf_putc(out, c != '/' && cn_key_char_ok(c) ? (char)c : '_');
        }
        if (i < n) {
            cn_buf_putc(out, '_');
            i++;
        }
    }
}

void cn_context_key_part(cn_buf *out, const char *text)
{
    const char *seg = text;
    for (const char *p = text;; p++) {
        if (*p && *p != '/')
            continue;
        size_t n = (size_t)(p - seg);
        if (n == 0) {
            if (*p == '/' && out->len && out->data[out->len - 1] != '/')
                cn_buf_putc(out, '/');
        } else if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
            cn_buf_puts(out, n == 1 ? "_" : "__");
            if (*p)
                cn_buf_putc(out, '/');
        } else {
            put_key_segment(out, seg, n);
            if (*p)
                cn_buf_putc(out, '/');
        }
        if (!*p)
            break;
        seg = p + 1;
    }
    while (out->len && out->data[out->len - 1] == '/')
        out->data[--out->len] = '\0';
}

void cn_context_input_key(cn_buf *out, const char *path)
{
    /* The longest suffix is ".size_bytes": the stem leaves room for it under CAIRN_KEY_MAX. */
    enum { SUFFIX_MAX = 11, HASH_CHARS = 12 };
    const size_t stem_max = CAIRN_KEY_MAX - SUFFIX_MAX;
    cn_buf part = CN_BUF_INIT;
    cn_buf_clear(out);
    cn_buf_puts(out, "cairn.input.");
    cn_context_key_part(&part, path);
    if (out->len + part.len <= stem_max) {
        cn_buf_append(out, part.data ? part.data : "", part.len);
    } else {
        /* "<12 hex of SHA-256(path)>:<tail>": the tail keeps the file name readable, the
         * hash keeps two long paths with the same tail apart. */
        char hex[65];
        cn_sha256_hex(path, strlen(path), hex);
        size_t room = stem_max - out->len - HASH_CHARS - 1;
        const char *tail = part.data + part.len - room;
        const char *slash = memchr(tail, '/', room);
        if (slash && slash[1])
            tail = slash + 1; /* start with a whole segment */
        while (((unsigned char)*tail & 0xC0) == 0x80)
            tail++; /* never in the middle of a UTF-8 sequence */
        cn_buf_append(out, hex, HASH_CHARS);
        cn_buf_putc(out, ':');
        cn_buf_puts(out, tail);
    }
    cn_buf_release(&part);
}

/* ---- the tags, collected and written in batches ---- */

typedef struct tag_list {
    size_t n, cap;
    char **keys;
    char **values;
} tag_list;

/* A copy of s with each byte of an invalid UTF-8 sequence replaced by U+FFFD: what the
 * machine reports (environment values, git output) is recorded, never refused. */
static char *valid_text(const char *s)
{
    size_t len = strlen(s), i = cn_text_utf8_end(s, len);
    if (i == len)
        return cn_xstrdup(s);
    cn_buf b = CN_BUF_INIT;
    cn_buf_append(&b, s, i);
    while (i < len) {
        cn_buf_puts(&b, "\xEF\xBF\xBD");
        i++;
        size_t valid = cn_text_utf8_end(s + i, len - i);
        cn_buf_append(&b, s + i, valid);
        i += valid;
    }
    return cn_buf_detach(&b);
}

static void tag_add(tag_list *t, const char *key, const char *value)
{
    if (!value)
        return;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 32;
        t->keys = cn_xrealloc(t->keys, t->cap * sizeof *t->keys);
        t->values = cn_xrealloc(t->values, t->cap * sizeof *t->values);
    }
    t->keys[t->n] = cn_xstrdup(key);
    t->values[t->n] = valid_text(value);
    t->n++;
}

static void tag_list_release(tag_list *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->keys[i]);
        free(t->values[i]);
    }
    free(t->keys);
    free(t->values);
}

static cairn_status tag_flush(cairn_run *run, tag_list *t)
{
    cairn_tag batch[CAIRN_BATCH_TAGS_MAX];
    for (size_t i = 0; i < t->n;) {
        size_t n = 0;
        for (; i < t->n && n < CAIRN_BATCH_TAGS_MAX; i++, n++) {
            batch[n].key = t->keys[i];
            batch[n].value = t->values[i];
        }
        cairn_status rc = cairn_run_log_batch(run, NULL, 0, NULL, 0, batch, n);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

/* Strips trailing newlines and spaces in place. */
static void chomp(cn_buf *b)
{
    while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r' ||
                      b->data[b->len - 1] == ' '))
        b->data[--b->len] = '\0';
}

/* Runs git -C dir ARGS; the chomped output in out, or false. */
static bool git(const char *dir, cn_buf *out, size_t max, const char *a1, const char *a2,
                const char *a3, const char *a4)
{
    const char *argv[] = {"git", "-C", dir, "-c", "core.quotepath=off", a1, a2, a3, a4, NULL};
    cn_buf_clear(out);
    if (cn_context_exec_capture(argv, max, out, NULL) != 0)
        return false;
    chomp(out);
    return true;
}

static cairn_status capture_git(cairn_run *run, const char *dir, tag_list *tags)
{
    cn_buf b = CN_BUF_INIT;
    cairn_status rc = CAIRN_OK;
    if (!git(dir, &b, SMALL_OUTPUT_MAX, "rev-parse", "HEAD", NULL, NULL) || b.len == 0)
        goto done; /* no git, not a repository, or no commit yet */
    tag_add(tags, "mlflow.source.git.commit", b.data);
    if (git(dir, &b, SMALL_OUTPUT_MAX, "rev-parse", "--abbrev-ref", "HEAD", NULL) && b.len &&
        strcmp(b.data, "HEAD") != 0)
        tag_add(tags, "mlflow.source.git.branch", b.data);
    if (git(dir, &b, SMALL_OUTPUT_MAX, "config", "--get", "remote.origin.url", NULL) && b.len)
        tag_add(tags, "mlflow.source.git.repoURL", b.data);
    if (git(dir, &b, SMALL_OUTPUT_MAX, "status", "--porcelain", "--untracked-files=no", NULL))
        tag_add(tags, "cairn.git.dirty", b.len ? "true" : "false");
    cn_buf_clear(&b);
    {
        const char *argv[] = {"git", "-C", dir, "diff", "HEAD", NULL};
        bool truncated = false;
        if (cn_context_exec_capture(argv, GIT_DIFF_MAX_BYTES, &b, &truncated) == 0 && b.len) {
            rc = cairn_run_log_artifact_bytes(run, "context/git.diff", b.data, b.len);
            if (rc != CAIRN_OK)
                goto done;
            if (truncated)
                tag_add(tags, "cairn.git.diff_truncated", "true");
        }
    }
    cn_buf_clear(&b);
    {
        const char *argv[] = {"git",
                              "-C",
                              dir,
                              "-c",
                              "core.quotepath=off",
                              "ls-files",
                              "--others",
                              "--exclude-standard",
                              NULL};
        if (cn_context_exec_capture(argv, GIT_DIFF_MAX_BYTES, &b, NULL) == 0 && b.len) {
            rc = cairn_run_log_artifact_bytes(run, "context/untracked.txt", b.data, b.len);
            if (rc != CAIRN_OK)
                goto done;
        }
    }
done:
    cn_buf_release(&b);
    return rc;
}

/* The value of "key : value" lines in /proc files. */
static bool proc_field(const char *path, const char *key, cn_buf *out)
{
    cn_buf text = CN_BUF_INIT;
    bool found = false;
    cn_buf_clear(out);
    if (cn_fs_read_file(path, &text, 4u << 20) == 0) {
        size_t klen = strlen(key);
        for (char *line = text.data; line && *line;) {
            char *nl = strchr(line, '\n');
            if (strncmp(line, key, klen) == 0 &&
                (line[klen] == ' ' || line[klen] == '\t' || line[klen] == ':')) {
                char *v = strchr(line, ':');
                if (v && (!nl || v < nl)) {
                    v++;
                    while (*v == ' ' || *v == '\t')
                        v++;
                    cn_buf_append(out, v, nl ? (size_t)(nl - v) : strlen(v));
                    chomp(out);
                    found = true;
                    break;
                }
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    cn_buf_release(&text);
    return found;
}

static void os_release_pretty(cn_buf *out)
{
    cn_buf text = CN_BUF_INIT;
    cn_buf_clear(out);
    if (cn_fs_read_file("/etc/os-release", &text, 65536) == 0) {
        const char *p = strstr(text.data, "PRETTY_NAME=");
        if (p && (p == text.data || p[-1] == '\n')) {
            p += 12;
            const char *end = strchr(p, '\n');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            if (n >= 2 && (p[0] == '"' || p[0] == '\'') && p[n - 1] == p[0]) {
                p++;
                n -= 2;
            }
            cn_buf_append(out, p, n);
        }
    }
    cn_buf_release(&text);
}

static void capture_machine(tag_list *tags)
{
    cn_buf b = CN_BUF_INIT, pretty = CN_BUF_INIT;
    char host[256];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        tag_add(tags, "cairn.host", host);
    }
    struct utsname u;
    os_release_pretty(&pretty);
    if (uname(&u) == 0) {
        cn_buf_printf(&b, "%s %s %s", u.sysname, u.release, u.machine);
        if (pretty.len)
            cn_buf_printf(&b, " (%s)", pretty.data);
        tag_add(tags, "cairn.os", b.data);
    } else if (pretty.len) {
        tag_add(tags, "cairn.os", pretty.data);
    }
    if (proc_field("/proc/cpuinfo", "model name", &b) || proc_field("/proc/cpuinfo", "Model", &b))
        tag_add(tags, "cairn.cpu.model", b.data);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu > 0) {
        cn_buf_clear(&b);
        cn_buf_printf(&b, "%ld", ncpu);
        tag_add(tags, "cairn.cpu.count", b.data);
    }
    int64_t mem = 0;
    if (proc_field("/proc/meminfo", "MemTotal", &b)) {
        int64_t kb = 0;
        char *space = strchr(b.data, ' ');
        if (space)
            *space = '\0';
        if (cn_parse_int64(b.data, &kb))
            mem = kb * 1024;
    }
    if (mem <= 0) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        if (pages > 0 && size > 0)
            mem = (int64_t)pages * size;
    }
    if (mem > 0) {
        cn_buf_clear(&b);
        cn_buf_printf(&b, "%lld", (long long)mem);
        tag_add(tags, "cairn.memory_bytes", b.data);
    }
    /* GPUs: "NVIDIA A100-SXM4-40GB, 40960 MiB" lines, when nvidia-smi exists. */
    cn_buf_clear(&b);
    const char *smi[] = {"nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader",
                         NULL};
    if (cn_context_exec_capture(smi, SMALL_OUTPUT_MAX, &b, NULL) == 0) {
        chomp(&b);
        cn_buf list = CN_BUF_INIT;
        size_t count = 0;
        for (char *line = b.data; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            if (*line) {
                if (count++)
                    cn_buf_puts(&list, "; ");
                cn_buf_puts(&list, line);
            }
            line = nl ? nl + 1 : NULL;
        }
        if (count) {
            tag_add(tags, "cairn.gpus", list.data);
            cn_buf_clear(&list);
            cn_buf_printf(&list, "%zu", count);
            tag_add(tags, "cairn.gpu.count", list.data);
        }
        cn_buf_release(&list);
    }
    cn_buf_release(&b);
    cn_buf_release(&pretty);
}

static const char *interpreters[] = {"python", "python3", "python2", "Rscript", "julia",
                                     "node",   "bash",    "sh",      "perl",    "ruby"};

/* The script, for "python train.py", else the program. */
static const char *source_name(const char *const *argv, size_t argc)
{
    if (argc == 0)
        return NULL;
    const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    for (size_t i = 0; i < CN_ARRAY_LEN(interpreters); i++) {
        size_t n = strlen(interpreters[i]);
        /* python3.11 counts as python */
        if (strncmp(prog, interpreters[i], n) == 0 &&
            (prog[n] == '\0' || (prog[n] == '.' || (prog[n] >= '0' && prog[n] <= '9')))) {
            for (size_t a = 1; a < argc; a++) {
                if (argv[a][0] == '-') {
                    if (strcmp(argv[a], "-m") == 0 && a + 1 < argc)
                        return argv[a + 1];
                    if (strcmp(argv[a], "-c") == 0 || strcmp(argv[a], "-e") == 0)
                        return argv[0]; /* inline code: the interpreter is the source */
                    continue;
                }
                return argv[a];
            }
        }
    }
    return argv[0];
}

static cairn_status capture_input(cairn_run *run, const char *path, tag_list *tags)
{
    cairn_ctx *ctx = cairn_run_ctx(run);
    char hex[65];
    int64_t size = 0;
    if (cn_sha256_file(path, hex, &size) != 0) {
        if (errno == CN_FS_ENOTREG)
            return cn_fail(ctx, CAIRN_EINVAL, "input '%s' is not a regular file", path);
        return cn_fail_errno(ctx, errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO, "input '%s'",
                             path);
    }
    char *abs = realpath(path, NULL);
    cn_buf key = CN_BUF_INIT, num = CN_BUF_INIT;
    cn_jsonw source, profile; /* {"uri": "..."} and {"size_bytes": N}, one line each */
    cn_jsonw_init(&source, NULL, 1);
    cn_jsonw_init(&profile, NULL, 1);
    source.flat_from = profile.flat_from = 1;
    cn_jsonw_object_begin(&source);
    cn_jsonw_kstring(&source, "uri", abs ? abs : path);
    cn_jsonw_object_end(&source);
    cn_jsonw_object_begin(&profile);
    cn_jsonw_kint(&profile, "size_bytes", size);
    cn_jsonw_object_end(&profile);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    cairn_dataset_input in = {
        .name = *base ? base : path,
        .digest = hex,
        .source_type = "local",
        .source = cn_buf_str(&source.buf),
        .profile = cn_buf_str(&profile.buf),
        .context = "input",
    };
    cairn_status rc = cairn_run_log_input(run, &in);
    if (rc == CAIRN_OK) {
        cn_context_input_key(&key, path);
        size_t stem = key.len;
        cn_buf_puts(&key, ".sha256");
        tag_add(tags, key.data, hex);
        key.len = stem;
        cn_buf_puts(&key, ".size_bytes");
        cn_buf_printf(&num, "%lld", (long long)size);
        tag_add(tags, key.data, num.data);
    }
    free(abs);
    cn_jsonw_release(&source);
    cn_jsonw_release(&profile);
    cn_buf_release(&key);
    cn_buf_release(&num);
    return rc;
}

CAIRN_API cairn_status cairn_run_capture_context(cairn_run *run, const cairn_context_opts *o)
{
    static const cairn_context_opts defaults = CAIRN_CONTEXT_OPTS_INIT;
    tag_list tags = {0};
    cn_buf b = CN_BUF_INIT;
    cairn_status rc = CAIRN_OK;
    char *cwd = getcwd(NULL, 0);
    if (!o)
        o = &defaults;

    tag_add(&tags, "mlflow.source.type", "LOCAL");
    if (o->argc && o->argv) {
        tag_add(&tags, "mlflow.source.name", source_name(o->argv, o->argc));
        cn_context_quote_argv(&b, o->argv, o->argc);
        tag_add(&tags, "cairn.command", b.data);
    }
    if (cwd)
        tag_add(&tags, "cairn.cwd", cwd);
    struct passwd *pw = getpwuid(geteuid());
    const char *user = pw && pw->pw_name ? pw->pw_name : getenv("USER");
    if (user)
        tag_add(&tags, "mlflow.user", user);
    capture_machine(&tags);
    if (o->has_seed) {
        cn_buf_clear(&b);
        cn_buf_printf(&b, "%lld", (long long)o->seed);
        tag_add(&tags, "cairn.seed", b.data);
    }
    for (size_t i = 0; i < CN_ARRAY_LEN(default_env_names) + o->n_env_names; i++) {
        const char *name = i < CN_ARRAY_LEN(default_env_names)
                               ? default_env_names[i]
                               : o->env_names[i - CN_ARRAY_LEN(default_env_names)];
        const char *value = getenv(name);
        if (!value)
            continue;
        cn_buf_clear(&b);
        cn_buf_puts(&b, "cairn.env.");
        cn_context_key_part(&b, name);
        tag_add(&tags, b.data, value);
    }
    if (!o->skip_git) {
        const char *dir = o->cwd ? o->cwd : cwd ? cwd : ".";
        rc = capture_git(run, dir, &tags);
        if (rc != CAIRN_OK)
            goto done;
    }
    for (size_t i = 0; i < o->n_inputs; i++) {
        rc = capture_input(run, o->inputs[i], &tags);
        if (rc != CAIRN_OK)
            goto done;
    }
    rc = tag_flush(run, &tags);
done:
    tag_list_release(&tags);
    cn_buf_release(&b);
    free(cwd);
    return rc;
}
