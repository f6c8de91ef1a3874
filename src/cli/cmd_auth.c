/* SPDX-License-Identifier: MIT */
/* cmd_auth.c - `cairn auth`: users, bearer tokens and permissions of the tracking server's
 * optional authentication, over cairn/auth.h. Whoever can open the store is its administrator
 * here: this command checks no credentials. Output formats are in docs/cli/cairn-auth.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/auth.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define TTL_DAYS_MAX 36500
#define MS_PER_DAY (24 * 3600 * INT64_C(1000))

static const char *const synopsis_lines[] = {
    "cairn auth user add NAME [--admin] [--password-stdin]",
    "cairn auth user passwd NAME [--password-stdin]",
    "cairn auth user admin NAME (yes | no)",
    "cairn auth user delete NAME",
    "cairn auth user list [--json]",
    "cairn auth token create USER [--name NAME] [--ttl DAYS]",
    "cairn auth token revoke USER NAME",
    "cairn auth token list [USER] [--json]",
    "cairn auth grant experiment (ID | NAME) USER PERMISSION",
    "cairn auth grant model NAME USER PERMISSION",
    "cairn auth revoke experiment (ID | NAME) USER",
    "cairn auth revoke model NAME USER",
    "cairn auth grants [USER] [--json]",
};
static const cli_verb_help helps[] = {
    {"user add",
     "Adds a user of the tracking server's --auth; --admin makes it an admin (admins may\n"
     "do everything). The password comes from standard input with --password-stdin, else\n"
     "from $CAIRN_PASSWORD (never the command line); at least 8 characters.\n"
     "\n"
     "options:\n"
     "      --admin          the user is an admin\n"
     "      --password-stdin read the password from the first line of standard input\n"
     "  -h, --help           this help\n"
     "\n"
     "examples:\n"
     "  cairn auth user add ana --password-stdin < ana.password\n"
     "  cairn auth user add admin --admin --password-stdin < admin.password\n"},
    {"user passwd",
     "Replaces a user's password (from standard input with --password-stdin, else from\n"
     "$CAIRN_PASSWORD). The user's tokens stay valid: revoke them separately.\n"
     "\n"
     "options:\n"
     "      --password-stdin read the password from the first line of standard input\n"
     "  -h, --help           this help\n"
     "\n"
     "examples:\n"
     "  cairn auth user passwd ana --password-stdin < ana.password\n"},
    {"user admin", "Makes a user an admin (yes) or takes that away (no).\n"
                   "\n"
                   "options:\n"
                   "  -h, --help           this help\n"
                   "\n"
                   "examples:\n"
                   "  cairn auth user admin ana yes\n"},
    {"user delete", "Deletes a user with its tokens and permissions.\n"
                    "\n"
                    "options:\n"
                    "  -h, --help           this help\n"
                    "\n"
                    "examples:\n"
                    "  cairn auth user delete ana\n"},
    {"user list", "Lists the users by name, with whether each is an admin.\n"
                  "\n"
                  "options:\n"
                  "      --json           print {\"users\": [...]} as JSON\n"
                  "  -h, --help           this help\n"
                  "\n"
                  "examples:\n"
                  "  cairn auth user list\n"
                  "  cairn auth user list --json\n"},
    {"token create",
     "Issues a bearer token for USER and prints it once, on standard output: only its\n"
     "SHA-256 is kept. Clients send it as 'Authorization: Bearer TOKEN' (MLFLOW_TRACKING_TOKEN).\n"
     "\n"
     "options:\n"
     "  -n, --name NAME      the token's name, unique per user (default token-<8 hex digits>)\n"
     "      --ttl DAYS       it expires after DAYS days (default: never)\n"
     "  -h, --help           this help\n"
     "\n"
     "examples:\n"
     "  cairn auth token create ana -n laptop --ttl 90\n"},
    {"token revoke", "Revokes one of USER's tokens by its name.\n"
                     "\n"
                     "options:\n"
                     "  -h, --help           this help\n"
                     "\n"
                     "examples:\n"
                     "  cairn auth token revoke ana laptop\n"},
    {"token list",
     "Lists tokens (names, creation and expiry; never the tokens themselves), of one user or\n"
     "of all.\n"
     "\n"
     "options:\n"
     "      --json           print {\"tokens\": [...]} as JSON\n"
     "  -h, --help           this help\n"
     "\n"
     "examples:\n"
     "  cairn auth token list ana\n"},
    {"grant experiment",
     "Sets a user's permission on an experiment (by id or name): READ, EDIT, MANAGE or\n"
     "NO_PERMISSIONS.\n"
     "\n"
     "options:\n"
     "  -h, --help           this help\n"
     "\n"
     "examples:\n"
     "  cairn auth grant experiment churn ana EDIT\n"},
    {"grant model", "Sets a user's permission on a registered model: READ, EDIT, MANAGE or\n"
                    "NO_PERMISSIONS.\n"
                    "\n"
                    "options:\n"
                    "  -h, --help           this help\n"
                    "\n"
                    "examples:\n"
                    "  cairn auth grant model churn ana READ\n"},
    {"revoke experiment", "Removes a user's own permission on an experiment: the server's\n"
                          "--default-permission applies again.\n"
                          "\n"
                          "options:\n"
                          "  -h, --help           this help\n"
                          "\n"
                          "examples:\n"
                          "  cairn auth revoke experiment churn ana\n"},
    {"revoke model", "Removes a user's own permission on a registered model: the server's\n"
                     "--default-permission applies again.\n"
                     "\n"
                     "options:\n"
                     "  -h, --help           this help\n"
                     "\n"
                     "examples:\n"
                     "  cairn auth revoke model churn ana\n"},
    {"grants",
     "Lists the explicit permissions (kind, resource, user, permission), of one user or of\n"
     "all.\n"
     "\n"
     "options:\n"
     "      --json           print {\"permissions\": [...]} as JSON\n"
     "  -h, --help           this help\n"
     "\n"
     "examples:\n"
     "  cairn auth grants ana\n"},
};
static const cli_synopsis synopsis = {synopsis_lines, CN_ARRAY_LEN(synopsis_lines), helps,
                                      CN_ARRAY_LEN(helps)};

enum { OPT_JSON = 1000, OPT_ADMIN, OPT_PASSWORD_STDIN, OPT_TTL };

/* The usage lines of `cairn auth <verb> <sub>` (sub NULL: every line of the verb), in a
 * static buffer. */
static const char *usage_of(const char *verb, const char *sub)
{
    static char text[2048];
    cn_buf b = CN_BUF_INIT;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "cairn auth %s%s%s", verb, sub ? " " : "", sub ? sub : "");
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < synopsis.n; i++) {
        const char *line = synopsis.lines[i];
        if (strncmp(line, prefix, plen) != 0 || (line[plen] != ' ' && line[plen] != '\0'))
            continue;
        cn_buf_printf(&b, "%s%s\n", b.len ? "   or: " : "usage: ", line);
    }
    cn_strlcpy(text, cn_buf_str(&b), sizeof text);
    cn_buf_release(&b);
    return text;
}

/* Runs the sub-verb argv[1] names from subs, or prints the verb's lines: to stdout for --help
 * (exit 0), else to stderr with an error (exit 2). */
static int sub_main(const char *verb, const cli_command *subs, size_t n_subs, int argc, char **argv)
{
    bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    for (size_t i = 0; argc >= 2 && !help && i < n_subs; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].fn(argc - 1, argv + 1);
    fputs(usage_of(verb, NULL), help ? stdout : stderr);
    if (help)
        return 0;
    if (argc < 2)
        fprintf(stderr, "cairn: error: 'cairn auth %s' needs one of:", verb);
    else
        fprintf(stderr,
                "cairn: error: unknown verb '%s' for 'cairn auth %s'; expected one of:", argv[1],
                verb);
    for (size_t i = 0; i < n_subs; i++)
        fprintf(stderr, "%s %s", i ? "," : "", subs[i].name);
    fputc('\n', stderr);
    return 2;
}

/* The password of `user add` and `user passwd`: the first line of stdin with
 * --password-stdin, else $CAIRN_PASSWORD. *out is a new string; returns 0 or the exit code. */
static int read_password(bool from_stdin, char **out)
{
    *out = NULL;
    if (!from_stdin) {
        const char *env = getenv("CAIRN_PASSWORD");
        if (!env)
            return cli_error("no password given: pipe it to --password-stdin or set "
                             "CAIRN_PASSWORD");
        *out = cn_xstrdup(env);
        return 0;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return cli_error("no password on standard input: pipe one line to --password-stdin");
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    *out = line;
    return 0;
}

static void wipe_free(char *s)
{
    if (s) {
        volatile char *p = s;
        while (*p)
            *p++ = '\0';
    }
    free(s);
}

/* ---- user ---- */

/* add and passwd: NAME [--admin] [--password-stdin]. */
static int user_set(int argc, char **argv, bool is_add)
{
    static const struct option opts[] = {{"admin", no_argument, NULL, OPT_ADMIN},
                                         {"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *usage = usage_of("user", is_add ? "add" : "passwd");
    bool admin = false, from_stdin = false;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == OPT_ADMIN && is_add)
            admin = true;
        else if (c == OPT_PASSWORD_STDIN)
            from_stdin = true;
        else
            return cli_other_option(c == OPT_ADMIN ? '?' : c, usage, NULL, argv);
    }
    if (argc - optind != 1)
        return cli_usage(usage, "expected 1 argument (the user name), got %d", argc - optind);
    const char *name = argv[optind];
    char *password = NULL;
    int rc = read_password(from_stdin, &password);
    if (rc != 0)
        return rc;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx) {
        wipe_free(password);
        return 1;
    }
    cairn_status st = is_add ? cairn_auth_user_create(ctx, name, password, admin)
                             : cairn_auth_user_set_password(ctx, name, password);
    wipe_free(password);
    if (st != CAIRN_OK)
        rc = cli_fail(ctx);
    else if (is_add)
        printf("added user %s%s\n", name, admin ? " (admin)" : "");
    else
        printf("changed the password of %s\n", name);
    cairn_close(ctx);
    return rc;
}

static int user_add(int argc, char **argv)
{
    return user_set(argc, argv, true);
}

static int user_passwd(int argc, char **argv)
{
    return user_set(argc, argv, false);
}

static int user_admin(int argc, char **argv)
{
    const char *usage = usage_of("user", "admin");
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage, false, 2, false, &json);
    if (rc >= 0)
        return rc;
    const char *name = argv[optind], *flag = argv[optind + 1];
    bool yes = strcmp(flag, "yes") == 0;
    if (!yes && strcmp(flag, "no") != 0)
        return cli_usage(usage, "'%s': expected yes or no", flag);
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    rc = 0;
    if (cairn_auth_user_set_admin(ctx, name, yes) != CAIRN_OK)
        rc = cli_fail(ctx);
    else
        printf("%s is %san admin\n", name, yes ? "" : "not ");
    cairn_close(ctx);
    return rc;
}

static int user_delete(int argc, char **argv)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage_of("user", "delete"), false, 1, false, &json);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    rc = 0;
    if (cairn_auth_user_delete(ctx, argv[optind]) != CAIRN_OK)
        rc = cli_fail(ctx);
    else
        printf("deleted user %s with its tokens and permissions\n", argv[optind]);
    cairn_close(ctx);
    return rc;
}

static int user_list(int argc, char **argv)
{
    static const char *const headers[] = {"USER", "ADMIN", "CREATED", "UPDATED"};
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage_of("user", "list"), true, 0, false, &json);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    cairn_auth_user_list *list = NULL;
    if (cairn_auth_list_users(ctx, &list) != CAIRN_OK) {
        rc = cli_fail(ctx);
        cairn_close(ctx);
        return rc;
    }
    cli_listing l;
    cli_listing_begin(&l, json, "users", CN_ARRAY_LEN(headers), headers);
    for (size_t i = 0; i < list->n; i++) {
        const cairn_auth_user *u = &list->items[i];
        if (json) {
            cn_jsonw_object_begin(&l.w);
            cn_jsonw_kstring(&l.w, "username", u->username);
            cn_jsonw_kbool(&l.w, "is_admin", u->is_admin);
            cn_jsonw_kint(&l.w, "creation_timestamp", u->creation_time_ms);
            cn_jsonw_kint(&l.w, "last_updated_timestamp", u->last_updated_time_ms);
            cn_jsonw_object_end(&l.w);
            continue;
        }
        char created[32], updated[32];
        cli_format_time(u->creation_time_ms, created, sizeof created);
        cli_format_time(u->last_updated_time_ms, updated, sizeof updated);
        const char *cells[] = {u->username, u->is_admin ? "yes" : "no", created, updated};
        cli_table_add(l.table, cells);
    }
    rc = cli_listing_end(&l);
    cairn_auth_user_list_free(list);
    cairn_close(ctx);
    return rc;
}

static const cli_command user_verbs[] = {
    {"add", user_add, "add a user"},
    {"passwd", user_passwd, "change a user's password"},
    {"admin", user_admin, "make a user an admin, or not"},
    {"delete", user_delete, "delete a user with its tokens and permissions"},
    {"list", user_list, "list users"},
};

static int auth_user(int argc, char **argv)
{
    return sub_main("user", user_verbs, CN_ARRAY_LEN(user_verbs), argc, argv);
}

/* ---- token ---- */

static int token_create(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"ttl", required_argument, NULL, OPT_TTL},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *usage = usage_of("token", "create");
    const char *name = NULL;
    int64_t days = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":n:h", opts, NULL)) != -1) {
        if (c == 'n')
            name = optarg;
        else if (c == OPT_TTL) {
            if (!cli_parse_count(optarg, TTL_DAYS_MAX, &days))
                return cli_usage(usage, "--ttl '%s': expected a whole number of days from 1 to %d",
                                 optarg, TTL_DAYS_MAX);
        } else
            return cli_other_option(c, usage, NULL, argv);
    }
    if (argc - optind != 1)
        return cli_usage(usage, "expected 1 argument (the user), got %d", argc - optind);
    const char *user = argv[optind];
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    char *token = NULL;
    int rc = 0;
    if (cairn_auth_token_create(ctx, user, name, days * MS_PER_DAY, &token) != CAIRN_OK) {
        rc = cli_fail(ctx);
    } else {
        /* The token on stdout alone, so scripts can capture it; the rest on stderr. */
        printf("%s\n", token);
        if (days)
            fprintf(stderr,
                    "cairn: note: a token for %s that expires in %lld days; it is shown only "
                    "once\n",
                    user, (long long)days);
        else
            fprintf(stderr,
                    "cairn: note: a token for %s that never expires; it is shown only once\n",
                    user);
        wipe_free(token);
    }
    cairn_close(ctx);
    return rc;
}

static int token_revoke(int argc, char **argv)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, usage_of("token", "revoke"), false, 2, false, &json);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    rc = 0;
    if (cairn_auth_token_revoke(ctx, argv[optind], argv[optind + 1]) != CAIRN_OK)
        rc = cli_fail(ctx);
    else
        printf("revoked token %s of %s\n", argv[optind + 1], argv[optind]);
    cairn_close(ctx);
    return rc;
}

/* The arguments of a listing that takes --json and at most one user (*user stays NULL when
 * none is given). Returns -1 to go on, else the exit code. */
static int user_listing_args(int argc, char **argv, const char *usage, bool *json,
                             const char **user)
{
    int rc = cli_simple_args(argc, argv, usage, true, 0, true, json);
    if (rc >= 0)
        return rc;
    if (argc - optind > 1)
        return cli_usage(usage, "expected at most 1 argument (the user), got %d", argc - optind);
    if (optind < argc)
        *user = argv[optind];
    return -1;
}

static int token_list(int argc, char **argv)
{
    static const char *const headers[] = {"USER", "NAME", "CREATED", "EXPIRES", "LAST USED"};
    bool json = false;
    const char *user = NULL;
    int rc = user_listing_args(argc, argv, usage_of("token", "list"), &json, &user);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    cairn_auth_token_list *list = NULL;
    if (cairn_auth_list_tokens(ctx, user, &list) != CAIRN_OK) {
        rc = cli_fail(ctx);
        cairn_close(ctx);
        return rc;
    }
    cli_listing l;
    cli_listing_begin(&l, json, "tokens", CN_ARRAY_LEN(headers), headers);
    for (size_t i = 0; i < list->n; i++) {
        const cairn_auth_token *t = &list->items[i];
        if (json) {
            cn_jsonw_object_begin(&l.w);
            cn_jsonw_kstring(&l.w, "username", t->username);
            cn_jsonw_kstring(&l.w, "name", t->name);
            cn_jsonw_kint(&l.w, "creation_timestamp", t->created_ms);
            cn_jsonw_key(&l.w, "expiration_timestamp");
            if (t->expires_ms)
                cn_jsonw_int(&l.w, t->expires_ms);
            else
                cn_jsonw_null(&l.w);
            cn_jsonw_key(&l.w, "last_used_timestamp");
            if (t->last_used_ms)
                cn_jsonw_int(&l.w, t->last_used_ms);
            else
                cn_jsonw_null(&l.w);
            cn_jsonw_object_end(&l.w);
            continue;
        }
        char created[32], expires[32] = "never", used[32] = "never";
        cli_format_time(t->created_ms, created, sizeof created);
        if (t->expires_ms)
            cli_format_time(t->expires_ms, expires, sizeof expires);
        if (t->last_used_ms)
            cli_format_time(t->last_used_ms, used, sizeof used);
        const char *cells[] = {t->username, t->name, created, expires, used};
        cli_table_add(l.table, cells);
    }
    rc = cli_listing_end(&l);
    cairn_auth_token_list_free(list);
    cairn_close(ctx);
    return rc;
}

static const cli_command token_verbs[] = {
    {"create", token_create, "issue a bearer token (printed once)"},
    {"revoke", token_revoke, "revoke a token by name"},
    {"list", token_list, "list tokens (never the tokens themselves)"},
};

static int auth_token(int argc, char **argv)
{
    return sub_main("token", token_verbs, CN_ARRAY_LEN(token_verbs), argc, argv);
}

/* ---- grant, revoke, permissions ---- */

/* The id of an experiment named by id (digits) or name; a new string, or NULL with the error
 * printed. */
static char *experiment_id_of(cairn_ctx *ctx, const char *id_or_name)
{
    if (strspn(id_or_name, "0123456789") == strlen(id_or_name) && *id_or_name)
        return cn_xstrdup(id_or_name);
    cairn_experiment *exp = cli_experiment_find(ctx, id_or_name);
    char *id = exp ? cn_xstrdup(exp->experiment_id) : NULL;
    cairn_experiment_free(exp);
    return id;
}

/* grant/revoke experiment|model RESOURCE USER [PERMISSION]. */
static int change_permission(int argc, char **argv, const char *verb, const char *kind)
{
    bool grant = strcmp(verb, "grant") == 0, json = false;
    const char *usage = usage_of(verb, kind);
    int rc = cli_simple_args(argc, argv, usage, false, grant ? 3 : 2, false, &json);
    if (rc >= 0)
        return rc;
    const char *resource = argv[optind], *user = argv[optind + 1];
    cairn_perm perm = CAIRN_PERM_NONE;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    if (grant && cairn_perm_parse(ctx, argv[optind + 2], &perm) != CAIRN_OK) {
        rc = cli_usage(usage, "%s", cairn_errmsg(ctx));
        cairn_close(ctx);
        return rc;
    }
    bool is_experiment = strcmp(kind, "experiment") == 0;
    char *id = is_experiment ? experiment_id_of(ctx, resource) : cn_xstrdup(resource);
    cairn_status st = CAIRN_OK;
    rc = 0;
    if (!id)
        rc = 1;
    else if (grant)
        st = is_experiment ? cairn_auth_set_experiment_permission(ctx, id, user, perm)
                           : cairn_auth_set_model_permission(ctx, id, user, perm);
    else
        st = is_experiment ? cairn_auth_delete_experiment_permission(ctx, id, user)
                           : cairn_auth_delete_model_permission(ctx, id, user);
    if (rc == 0 && st != CAIRN_OK)
        rc = cli_fail(ctx);
    else if (rc == 0 && grant)
        printf("%s %s: %s %s\n", kind, id, user, cairn_perm_str(perm));
    else if (rc == 0)
        printf("%s %s: %s falls back to the default permission\n", kind, id, user);
    free(id);
    cairn_close(ctx);
    return rc;
}

static int grant_experiment(int argc, char **argv)
{
    return change_permission(argc, argv, "grant", "experiment");
}

static int grant_model(int argc, char **argv)
{
    return change_permission(argc, argv, "grant", "model");
}

static int revoke_experiment(int argc, char **argv)
{
    return change_permission(argc, argv, "revoke", "experiment");
}

static int revoke_model(int argc, char **argv)
{
    return change_permission(argc, argv, "revoke", "model");
}

static const cli_command grant_verbs[] = {
    {"experiment", grant_experiment, "set a user's permission on an experiment"},
    {"model", grant_model, "set a user's permission on a registered model"},
};
static const cli_command revoke_verbs[] = {
    {"experiment", revoke_experiment, "remove a user's permission on an experiment"},
    {"model", revoke_model, "remove a user's permission on a registered model"},
};

static int auth_grant(int argc, char **argv)
{
    return sub_main("grant", grant_verbs, CN_ARRAY_LEN(grant_verbs), argc, argv);
}

static int auth_revoke(int argc, char **argv)
{
    return sub_main("revoke", revoke_verbs, CN_ARRAY_LEN(revoke_verbs), argc, argv);
}

static int auth_grants(int argc, char **argv)
{
    static const char *const headers[] = {"KIND", "RESOURCE", "USER", "PERMISSION"};
    bool json = false;
    const char *user = NULL;
    int rc = user_listing_args(argc, argv, usage_of("grants", NULL), &json, &user);
    if (rc >= 0)
        return rc;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    cairn_auth_permission_list *list = NULL;
    if (cairn_auth_list_permissions(ctx, user, &list) != CAIRN_OK) {
        rc = cli_fail(ctx);
        cairn_close(ctx);
        return rc;
    }
    cli_listing l;
    cli_listing_begin(&l, json, "permissions", CN_ARRAY_LEN(headers), headers);
    for (size_t i = 0; i < list->n; i++) {
        const cairn_auth_permission *p = &list->items[i];
        const char *kind = p->kind == CAIRN_AUTH_EXPERIMENT ? "experiment" : "model";
        if (json) {
            cn_jsonw_flat(&l.w);
            cn_jsonw_object_begin(&l.w);
            cn_jsonw_kstring(&l.w, "kind", kind);
            cn_jsonw_kstring(&l.w, "resource", p->resource);
            cn_jsonw_kstring(&l.w, "username", p->username);
            cn_jsonw_kstring(&l.w, "permission", cairn_perm_str(p->perm));
            cn_jsonw_object_end(&l.w);
            continue;
        }
        const char *cells[] = {kind, p->resource, p->username, cairn_perm_str(p->perm)};
        cli_table_add(l.table, cells);
    }
    rc = cli_listing_end(&l);
    cairn_auth_permission_list_free(list);
    cairn_close(ctx);
    return rc;
}

static const cli_command verbs[] = {
    {"user", auth_user, "add, delete and list users; change passwords and admins"},
    {"token", auth_token, "create, revoke and list bearer tokens"},
    {"grant", auth_grant, "give a user a permission on an experiment or model"},
    {"revoke", auth_revoke, "take a user's own permission away (the default applies)"},
    {"grants", auth_grants, "list the permissions users hold"},
};

int cmd_auth(int argc, char **argv)
{
    return cli_group_main("auth", &synopsis, verbs, CN_ARRAY_LEN(verbs), argc, argv);
}
