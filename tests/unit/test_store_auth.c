/* SPDX-License-Identifier: MIT */
/* test_store_auth.c - authentication (cairn/auth.h) on a real store (SQLite, or PostgreSQL
 * under scripts/with-pg.sh): password hashes round trip and refuse what they should, an
 * unknown user costs the same time, tokens expire and revoke, permissions resolve as admin >
 * explicit > default with the creator's MANAGE, rules name the problem; and the hash text,
 * base64 and Authorization header parsers on their own. */
#include <time.h>
#include "unit.h"
#include "store_fixture.h"
#include "cairn/auth.h"
#include "cairn/registry.h"
#include "auth/hash.h"

static cairn_ctx *ctx;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A new user with a unique name (shared PostgreSQL databases hold other tests' users). */
static const char *new_user(const char *base, bool is_admin)
{
    const char *name = fixture_name(base);
    cairn_status rc = cairn_auth_user_create(ctx, name, "correct horse", is_admin);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# create %s: %s\n", name, cairn_errmsg(ctx));
    CHECK(rc == CAIRN_OK);
    return name;
}

static char *new_experiment(void)
{
    char *id = NULL;
    CHECK(cairn_experiment_create(ctx, fixture_name("auth-exp"), NULL, NULL, 0, &id) == CAIRN_OK);
    return id;
}

static bool verify(const char *user, const char *password)
{
    bool ok = true;
    CHECK(cairn_auth_verify_password(ctx, user, password, &ok) == CAIRN_OK);
    return ok;
}

TEST(hash_text_round_trips_and_parses_strictly)
{
    char *h = NULL;
    CHECK(cn_auth_hash_password(ctx, "s3cret-pass", &h) == CAIRN_OK);
    CHECK(h && strncmp(h, "pbkdf2-sha256$200000$", 21) == 0);
    cn_auth_hash parsed;
    CHECK(cn_auth_hash_parse(h, strlen(h), &parsed));
    CHECK(parsed.iterations == CAIRN_AUTH_PBKDF2_ITERATIONS);
    CHECK(parsed.salt_len == CN_AUTH_SALT_BYTES && parsed.key_len == CN_AUTH_KEY_BYTES);
    CHECK(cn_auth_hash_verify("s3cret-pass", h));
    CHECK(!cn_auth_hash_verify("s3cret-pasS", h));
    /* Two hashes of one password differ: the salt is fresh each time. */
    char *h2 = NULL;
    CHECK(cn_auth_hash_password(ctx, "s3cret-pass", &h2) == CAIRN_OK);
    CHECK(h2 && strcmp(h, h2) != 0);
    free(h);
    free(h2);
    /* A vector computed by Python's hashlib: PBKDF2-HMAC-SHA256("password", "saltsalt", 4096). */
    const char *known =
        "pbkdf2-sha256$4096$c2FsdHNhbHQ$ZiMD_VuDIBLM8rT9ZlFkcm8vO44PH2jtvpsH6s4pwvU";
    CHECK(cn_auth_hash_parse(known, strlen(known), &parsed));
    CHECK(cn_auth_hash_verify("password", known));
    CHECK(!cn_auth_hash_verify("passwore", known));
    const char *bad[] = {
        "",
        "pbkdf2-sha256",
        "pbkdf2-sha1$4096$c2FsdHNhbHQ$ZiMD_VuDIBLM8rT9ZlFkcm8vO44PH2jtvpsH6s4pwvU",
        "pbkdf2-sha256$04096$c2FsdHNhbHQ$ZiMD_VuDIBLM8rT9ZlFkcm8vO44PH2jtvpsH6s4pwvU",
        "pbkdf2-sha256$999$c2FsdHNhbHQ$ZiMD_VuDIBLM8rT9ZlFkcm8vO44PH2jtvpsH6s4pwvU",
        "pbkdf2-sha256$99999999$c2FsdHNhbHQ$ZiMD_VuDIBLM8rT9ZlFkcm8vO44PH2jtvpsH6s4pwvU",
        "pbkdf2-sha256$4096$c2Fs$ZiMD_VuDIBLM8rT9ZlFkcm8vO44PH2jtvpsH6s4pwvU",
        "pbkdf2-sha256$4096$c2FsdHNhbHQ$ZiMD",
        "pbkdf2-sha256$4096$c2FsdHNhbHQ$ZiMD_VuDIBLM8rT9ZlFkcm8vO44PH2jtvpsH6s4pwvU$",
        "pbkdf2-sha256$4096$c2Fsd*NhbHQ$ZiMD_VuDIBLM8rT9ZlFkcm8vO44PH2jtvpsH6s4pwvU",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(!cn_auth_hash_parse(bad[i], strlen(bad[i]), &parsed));
        CHECK(!cn_auth_hash_verify("password", bad[i]));
    }
}

TEST(base64_both_alphabets_and_strict)
{
    unsigned char out[16];
    size_t n;
    char enc[32];
    CHECK(cn_auth_b64_decode("dXNlcjpwYXNz", 12, out, sizeof out, &n) && n == 9);
    CHECK(memcmp(out, "user:pass", 9) == 0);
    CHECK(cn_auth_b64_decode("YQ==", 4, out, sizeof out, &n) && n == 1 && out[0] == 'a');
    CHECK(cn_auth_b64_decode("YQ", 2, out, sizeof out, &n) && n == 1);
    CHECK(cn_auth_b64_decode("-_8", 3, out, sizeof out, &n) && n == 2);
    CHECK(cn_auth_b64_decode("+/8", 3, out, sizeof out, &n) && n == 2);
    CHECK(!cn_auth_b64_decode("YQ=", 3, out, sizeof out, &n));
    CHECK(!cn_auth_b64_decode("Y", 1, out, sizeof out, &n));
    CHECK(!cn_auth_b64_decode("YR==", 4, out, sizeof out, &n)); /* non-zero leftover bits */
    CHECK(!cn_auth_b64_decode("Y Q=", 4, out, sizeof out, &n));
    CHECK(!cn_auth_b64_decode("AAAAAAAAAAAAAAAAAAAAAAAA", 24, out, sizeof out, &n)); /* 18 > 16 */
    cn_auth_b64_encode((const unsigned char *)"\xfb\xff", 2, enc);
    CHECK_STR(enc, "-_8");
}

TEST(authorization_header_parser)
{
    cn_auth_credentials c;
    cn_auth_header_parse("Basic dXNlcjpwYTpzcw==", 22, &c);
    CHECK(c.scheme == CN_AUTH_BASIC);
    CHECK_STR(c.username, "user");
    CHECK_STR(c.secret, "pa:ss"); /* split at the first ':' */
    cn_auth_credentials_release(&c);
    cn_auth_header_parse("  bearer   cairn_abc ", 21, &c);
    CHECK(c.scheme == CN_AUTH_BEARER);
    CHECK_STR(c.secret, "cairn_abc");
    cn_auth_credentials_release(&c);
    const char *bad[] = {"",           "Basic",       "Basic ", "Basic dXNlcg==",
                         "Digest abc", "Basicx YQ==", "Bearer", "Basic !!!!"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cn_auth_header_parse(bad[i], strlen(bad[i]), &c);
        CHECK(c.scheme == CN_AUTH_NONE && !c.secret && !c.username);
        cn_auth_credentials_release(&c);
    }
}

TEST(users_create_verify_passwd_admin_delete)
{
    const char *alice = new_user("alice", false);
    CHECK(verify(alice, "correct horse"));
    CHECK(!verify(alice, "correct horsE"));
    CHECK(!verify(alice, ""));
    CHECK(!verify(fixture_name("nobody"), "correct horse"));
    CHECK(!verify("bad name", "correct horse"));
    CHECK(cairn_auth_user_create(ctx, alice, "another pass", false) == CAIRN_EEXIST);
    CHECK(strstr(cairn_errmsg(ctx), "already exists") != NULL);

    cairn_auth_user *u = NULL;
    CHECK(cairn_auth_user_get(ctx, alice, &u) == CAIRN_OK);
    CHECK(u && !u->is_admin && strcmp(u->username, alice) == 0 && u->creation_time_ms > 0);
    cairn_auth_user_free(u);
    CHECK(cairn_auth_user_set_admin(ctx, alice, true) == CAIRN_OK);
    CHECK(cairn_auth_user_get(ctx, alice, &u) == CAIRN_OK);
    CHECK(u && u->is_admin);
    cairn_auth_user_free(u);

    CHECK(cairn_auth_user_set_password(ctx, alice, "battery staple") == CAIRN_OK);
    CHECK(!verify(alice, "correct horse"));
    CHECK(verify(alice, "battery staple"));

    cairn_auth_user_list *list = NULL;
    CHECK(cairn_auth_list_users(ctx, &list) == CAIRN_OK);
    bool seen = false;
    for (size_t i = 0; list && i < list->n; i++) {
        seen |= strcmp(list->items[i].username, alice) == 0 && list->items[i].is_admin;
        if (i > 0)
            CHECK(strcmp(list->items[i - 1].username, list->items[i].username) < 0);
    }
    CHECK(seen);
    cairn_auth_user_list_free(list);

    CHECK(cairn_auth_user_delete(ctx, alice) == CAIRN_OK);
    CHECK(!verify(alice, "battery staple"));
    CHECK(cairn_auth_user_delete(ctx, alice) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "no user named") != NULL);
    CHECK(cairn_auth_user_get(ctx, alice, &u) == CAIRN_ENOTFOUND && u == NULL);
    CHECK(cairn_auth_user_set_password(ctx, alice, "battery staple") == CAIRN_ENOTFOUND);
}

TEST(rules_name_the_problem)
{
    CHECK(cairn_auth_user_create(ctx, fixture_name("short"), "1234567", false) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "at least 8 characters") != NULL);
    CHECK(cairn_auth_user_create(ctx, "", "12345678", false) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "empty") != NULL);
    CHECK(cairn_auth_user_create(ctx, "two words", "12345678", false) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "without spaces") != NULL);
    CHECK(cairn_auth_user_create(ctx, "a:b", "12345678", false) == CAIRN_EINVAL);
    CHECK(cairn_auth_user_create(ctx, "caf\xc3\xa9", "12345678", false) == CAIRN_EINVAL);
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(cairn_auth_user_create(ctx, longname, "12345678", false) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "longer than 255") != NULL);
    CHECK(cairn_auth_user_create(ctx, fixture_name("bad"), "12345678\xff", false) == CAIRN_EINVAL);
    CHECK(cairn_auth_user_create(ctx, fixture_name("nopw"), NULL, false) == CAIRN_EINVAL);
    cairn_perm p;
    CHECK(cairn_perm_parse(ctx, "edit", &p) == CAIRN_OK && p == CAIRN_PERM_EDIT);
    CHECK(cairn_perm_parse(ctx, "NO_PERMISSIONS", &p) == CAIRN_OK && p == CAIRN_PERM_NONE);
    CHECK(cairn_perm_parse(ctx, "none", &p) == CAIRN_OK && p == CAIRN_PERM_NONE);
    CHECK(cairn_perm_parse(ctx, "write", &p) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "expected READ, EDIT, MANAGE or NO_PERMISSIONS") != NULL);
    CHECK_STR(cairn_perm_str(CAIRN_PERM_MANAGE), "MANAGE");
    CHECK(cairn_perm_str((cairn_perm)9) == NULL);
}

TEST(unknown_user_costs_the_same_time)
{
    const char *bob = new_user("bob", false);
    double wrong = 1e9, unknown = 1e9;
    for (int i = 0; i < 2; i++) {
        double t = now_s();
        CHECK(!verify(bob, "not his password"));
        double t2 = now_s();
        CHECK(!verify(fixture_name("ghost"), "not his password"));
        double t3 = now_s();
        wrong = t2 - t < wrong ? t2 - t : wrong;
        unknown = t3 - t2 < unknown ? t3 - t2 : unknown;
    }
    fprintf(stderr, "# wrong password %.1f ms, unknown user %.1f ms\n", wrong * 1e3, unknown * 1e3);
    /* Both run the full PBKDF2: neither is a quick table miss (under a millisecond). The
     * bounds are loose for a loaded machine; a leak would be a factor of a hundred or more. */
    CHECK(wrong > 0.01 && unknown > 0.01);
    CHECK(unknown > wrong * 0.25 && unknown < wrong * 4.0);
}

TEST(tokens_create_verify_expire_revoke)
{
    const char *carol = new_user("carol", false);
    char *token = NULL, *who = NULL;
    CHECK(cairn_auth_token_create(ctx, carol, "ci", 0, &token) == CAIRN_OK);
    CHECK(token && strlen(token) == CN_AUTH_TOKEN_LEN && strncmp(token, "cairn_", 6) == 0);
    CHECK(cairn_auth_token_verify(ctx, token, &who) == CAIRN_OK);
    CHECK_STR(who, carol);
    free(who);
    /* The name is unique per user; a second token gets another. */
    char *dup = NULL;
    CHECK(cairn_auth_token_create(ctx, carol, "ci", 0, &dup) == CAIRN_EEXIST && dup == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "already has a token named 'ci'") != NULL);
    char *unnamed = NULL;
    CHECK(cairn_auth_token_create(ctx, carol, NULL, 0, &unnamed) == CAIRN_OK);
    CHECK(unnamed && strcmp(unnamed, token) != 0);

    /* Through the Authorization header too, both schemes. */
    char header[128];
    snprintf(header, sizeof header, "Bearer %s", token);
    CHECK(cairn_auth_authenticate(ctx, header, &who) == CAIRN_OK);
    CHECK_STR(who, carol);
    free(who);
    CHECK(cairn_auth_authenticate(ctx, "Bearer cairn_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                  &who) == CAIRN_OK &&
          who == NULL);

    /* A mangled token, a wrong one, garbage: all just "no user". */
    char mangled[64];
    snprintf(mangled, sizeof mangled, "%s", token);
    mangled[10] = mangled[10] == 'A' ? 'B' : 'A';
    CHECK(cairn_auth_token_verify(ctx, mangled, &who) == CAIRN_OK && who == NULL);
    CHECK(cairn_auth_token_verify(ctx, "cairn_", &who) == CAIRN_OK && who == NULL);
    CHECK(cairn_auth_token_verify(ctx, NULL, &who) == CAIRN_OK && who == NULL);

    cairn_auth_token_list *list = NULL;
    CHECK(cairn_auth_list_tokens(ctx, carol, &list) == CAIRN_OK);
    CHECK(list && list->n == 2);
    if (list && list->n == 2) {
        CHECK_STR(list->items[0].name, "ci");
        CHECK(strncmp(list->items[1].name, "token-", 6) == 0);
        CHECK(list->items[0].last_used_ms > 0 && list->items[0].expires_ms == 0);
        CHECK(list->items[1].last_used_ms == 0);
    }
    cairn_auth_token_list_free(list);

    /* Expiry. */
    char *brief = NULL;
    CHECK(cairn_auth_token_create(ctx, carol, "brief", 30, &brief) == CAIRN_OK);
    CHECK(cairn_auth_token_verify(ctx, brief, &who) == CAIRN_OK);
    CHECK_STR(who, carol);
    free(who);
    struct timespec pause = {0, 60 * 1000 * 1000};
    nanosleep(&pause, NULL);
    CHECK(cairn_auth_token_verify(ctx, brief, &who) == CAIRN_OK && who == NULL);
    CHECK(cairn_auth_token_create(ctx, carol, "neg", -5, &dup) == CAIRN_EINVAL);

    /* Revoke. */
    CHECK(cairn_auth_token_revoke(ctx, carol, "ci") == CAIRN_OK);
    CHECK(cairn_auth_token_verify(ctx, token, &who) == CAIRN_OK && who == NULL);
    CHECK(cairn_auth_token_revoke(ctx, carol, "ci") == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "has no token named 'ci'") != NULL);
    CHECK(cairn_auth_token_create(ctx, fixture_name("nobody"), "x", 0, &dup) == CAIRN_ENOTFOUND);

    /* Deleting the user takes its tokens. */
    CHECK(cairn_auth_token_verify(ctx, unnamed, &who) == CAIRN_OK);
    CHECK_STR(who, carol);
    free(who);
    CHECK(cairn_auth_user_delete(ctx, carol) == CAIRN_OK);
    CHECK(cairn_auth_token_verify(ctx, unnamed, &who) == CAIRN_OK && who == NULL);
    free(token);
    free(unnamed);
    free(brief);
}

TEST(basic_header_checks_the_password)
{
    const char *dave = new_user("dave", false);
    char raw[300], enc[420], header[440];
    snprintf(raw, sizeof raw, "%s:correct horse", dave);
    cn_auth_b64_encode((const unsigned char *)raw, strlen(raw), enc);
    snprintf(header, sizeof header, "Basic %s", enc);
    char *who = NULL;
    CHECK(cairn_auth_authenticate(ctx, header, &who) == CAIRN_OK);
    CHECK_STR(who, dave);
    free(who);
    snprintf(raw, sizeof raw, "%s:wrong horse!", dave);
    cn_auth_b64_encode((const unsigned char *)raw, strlen(raw), enc);
    snprintf(header, sizeof header, "Basic %s", enc);
    CHECK(cairn_auth_authenticate(ctx, header, &who) == CAIRN_OK && who == NULL);
    CHECK(cairn_auth_authenticate(ctx, NULL, &who) == CAIRN_OK && who == NULL);
    CHECK(cairn_auth_authenticate(ctx, "Negotiate xyz", &who) == CAIRN_OK && who == NULL);
}

static cairn_perm effective(const char *user, cairn_auth_kind kind, const char *res,
                            cairn_perm dflt)
{
    cairn_perm p = (cairn_perm)-1;
    CHECK(cairn_auth_effective_permission(ctx, user, kind, res, dflt, &p) == CAIRN_OK);
    return p;
}

TEST(permissions_admin_explicit_default_creator)
{
    const char *admin = new_user("root", true);
    const char *erin = new_user("erin", false);
    const char *frank = new_user("frank", false);
    char *exp = new_experiment();
    const char *model = fixture_name("auth-model");
    CHECK(cairn_registry_create_model(ctx, model, NULL, NULL, 0) == CAIRN_OK);

    /* The default applies when nothing else does. */
    CHECK(effective(erin, CAIRN_AUTH_EXPERIMENT, exp, CAIRN_PERM_READ) == CAIRN_PERM_READ);
    CHECK(effective(erin, CAIRN_AUTH_MODEL, model, CAIRN_PERM_NONE) == CAIRN_PERM_NONE);
    /* Admins can do everything, whatever the default or their own rows. */
    CHECK(cairn_auth_set_experiment_permission(ctx, exp, admin, CAIRN_PERM_NONE) == CAIRN_OK);
    CHECK(effective(admin, CAIRN_AUTH_EXPERIMENT, exp, CAIRN_PERM_NONE) == CAIRN_PERM_MANAGE);
    /* An unknown user gets nothing, even with a generous default. */
    CHECK(effective(fixture_name("ghost"), CAIRN_AUTH_EXPERIMENT, exp, CAIRN_PERM_MANAGE) ==
          CAIRN_PERM_NONE);

    /* Explicit rows beat the default, both ways. */
    CHECK(cairn_auth_set_experiment_permission(ctx, exp, erin, CAIRN_PERM_EDIT) == CAIRN_OK);
    CHECK(cairn_auth_set_experiment_permission(ctx, exp, frank, CAIRN_PERM_NONE) == CAIRN_OK);
    CHECK(effective(erin, CAIRN_AUTH_EXPERIMENT, exp, CAIRN_PERM_READ) == CAIRN_PERM_EDIT);
    CHECK(effective(frank, CAIRN_AUTH_EXPERIMENT, exp, CAIRN_PERM_READ) == CAIRN_PERM_NONE);
    cairn_perm p;
    CHECK(cairn_auth_get_experiment_permission(ctx, exp, erin, &p) == CAIRN_OK &&
          p == CAIRN_PERM_EDIT);
    /* Replacing a row. */
    CHECK(cairn_auth_set_experiment_permission(ctx, exp, erin, CAIRN_PERM_READ) == CAIRN_OK);
    CHECK(cairn_auth_get_experiment_permission(ctx, exp, erin, &p) == CAIRN_OK &&
          p == CAIRN_PERM_READ);

    bool ok = true;
    CHECK(cairn_auth_check(ctx, erin, CAIRN_AUTH_EXPERIMENT, exp, CAIRN_PERM_EDIT,
                           CAIRN_PERM_MANAGE, &ok) == CAIRN_OK &&
          !ok);
    CHECK(cairn_auth_check(ctx, erin, CAIRN_AUTH_EXPERIMENT, exp, CAIRN_PERM_READ, CAIRN_PERM_NONE,
                           &ok) == CAIRN_OK &&
          ok);
    CHECK(cairn_auth_check(ctx, admin, CAIRN_AUTH_MODEL, model, CAIRN_PERM_MANAGE, CAIRN_PERM_NONE,
                           &ok) == CAIRN_OK &&
          ok);

    /* Deleting the row falls back to the default. */
    CHECK(cairn_auth_delete_experiment_permission(ctx, exp, frank) == CAIRN_OK);
    CHECK(effective(frank, CAIRN_AUTH_EXPERIMENT, exp, CAIRN_PERM_READ) == CAIRN_PERM_READ);
    CHECK(cairn_auth_delete_experiment_permission(ctx, exp, frank) == CAIRN_ENOTFOUND);
    CHECK(cairn_auth_get_experiment_permission(ctx, exp, frank, &p) == CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "the default applies") != NULL);

    /* The creator manages what it made. */
    CHECK(cairn_auth_grant_creator(ctx, frank, CAIRN_AUTH_MODEL, model) == CAIRN_OK);
    CHECK(effective(frank, CAIRN_AUTH_MODEL, model, CAIRN_PERM_NONE) == CAIRN_PERM_MANAGE);
    CHECK(cairn_auth_get_model_permission(ctx, model, frank, &p) == CAIRN_OK &&
          p == CAIRN_PERM_MANAGE);

    /* What is missing is named. */
    CHECK(cairn_auth_set_experiment_permission(ctx, "987654321", erin, CAIRN_PERM_READ) ==
          CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "987654321") != NULL);
    CHECK(cairn_auth_set_experiment_permission(ctx, "abc", erin, CAIRN_PERM_READ) == CAIRN_EINVAL);
    CHECK(cairn_auth_set_model_permission(ctx, fixture_name("no-model"), erin, CAIRN_PERM_READ) ==
          CAIRN_ENOTFOUND);
    CHECK(cairn_auth_set_model_permission(ctx, model, fixture_name("ghost"), CAIRN_PERM_READ) ==
          CAIRN_ENOTFOUND);
    CHECK(strstr(cairn_errmsg(ctx), "no user named") != NULL);
    CHECK(cairn_auth_set_model_permission(ctx, model, erin, (cairn_perm)7) == CAIRN_EINVAL);

    /* A model's permissions follow a rename and go with a delete. */
    const char *renamed = fixture_name("auth-model-renamed");
    CHECK(cairn_registry_rename_model(ctx, model, renamed) == CAIRN_OK);
    CHECK(cairn_auth_rename_model_permissions(ctx, model, renamed) == CAIRN_OK);
    CHECK(effective(frank, CAIRN_AUTH_MODEL, renamed, CAIRN_PERM_NONE) == CAIRN_PERM_MANAGE);
    CHECK(effective(frank, CAIRN_AUTH_MODEL, model, CAIRN_PERM_NONE) == CAIRN_PERM_NONE);
    CHECK(cairn_registry_delete_model(ctx, renamed) == CAIRN_OK);
    CHECK(cairn_auth_delete_model_permissions(ctx, renamed) == CAIRN_OK);
    CHECK(cairn_auth_get_model_permission(ctx, renamed, frank, &p) == CAIRN_ENOTFOUND);

    /* The list shows the rows; deleting a user takes them. */
    cairn_auth_permission_list *list = NULL;
    CHECK(cairn_auth_list_permissions(ctx, erin, &list) == CAIRN_OK);
    CHECK(list && list->n == 1);
    if (list && list->n == 1) {
        CHECK(list->items[0].kind == CAIRN_AUTH_EXPERIMENT);
        CHECK_STR(list->items[0].resource, exp);
        CHECK(list->items[0].perm == CAIRN_PERM_READ);
    }
    cairn_auth_permission_list_free(list);
    CHECK(cairn_auth_user_delete(ctx, erin) == CAIRN_OK);
    CHECK(cairn_auth_list_permissions(ctx, erin, &list) == CAIRN_OK);
    CHECK(list && list->n == 0);
    cairn_auth_permission_list_free(list);
    free(exp);
}

TEST(check_many_filters_a_page)
{
    const char *gina = new_user("gina", false);
    const char *admin = new_user("root2", true);
    char *e[4];
    for (int i = 0; i < 4; i++)
        e[i] = new_experiment();
    CHECK(cairn_auth_set_experiment_permission(ctx, e[0], gina, CAIRN_PERM_READ) == CAIRN_OK);
    CHECK(cairn_auth_set_experiment_permission(ctx, e[1], gina, CAIRN_PERM_NONE) == CAIRN_OK);
    CHECK(cairn_auth_grant_creator(ctx, gina, CAIRN_AUTH_EXPERIMENT, e[2]) == CAIRN_OK);
    const char *const ids[4] = {e[0], e[1], e[2], e[3]};
    bool allowed[4];
    /* Default NONE: only her own rows with READ or more. */
    CHECK(cairn_auth_check_many(ctx, gina, CAIRN_AUTH_EXPERIMENT, ids, 4, CAIRN_PERM_READ,
                                CAIRN_PERM_NONE, allowed) == CAIRN_OK);
    CHECK(allowed[0] && !allowed[1] && allowed[2] && !allowed[3]);
    /* Default READ: everything but the explicit NO_PERMISSIONS. */
    CHECK(cairn_auth_check_many(ctx, gina, CAIRN_AUTH_EXPERIMENT, ids, 4, CAIRN_PERM_READ,
                                CAIRN_PERM_READ, allowed) == CAIRN_OK);
    CHECK(allowed[0] && !allowed[1] && allowed[2] && allowed[3]);
    CHECK(cairn_auth_check_many(ctx, gina, CAIRN_AUTH_EXPERIMENT, ids, 4, CAIRN_PERM_MANAGE,
                                CAIRN_PERM_READ, allowed) == CAIRN_OK);
    CHECK(!allowed[0] && !allowed[1] && allowed[2] && !allowed[3]);
    CHECK(cairn_auth_check_many(ctx, admin, CAIRN_AUTH_EXPERIMENT, ids, 4, CAIRN_PERM_MANAGE,
                                CAIRN_PERM_NONE, allowed) == CAIRN_OK);
    CHECK(allowed[0] && allowed[1] && allowed[2] && allowed[3]);
    CHECK(cairn_auth_check_many(ctx, fixture_name("ghost"), CAIRN_AUTH_EXPERIMENT, ids, 4,
                                CAIRN_PERM_READ, CAIRN_PERM_READ, allowed) == CAIRN_OK);
    CHECK(!allowed[0] && !allowed[1] && !allowed[2] && !allowed[3]);
    for (int i = 0; i < 4; i++)
        free(e[i]);
}

static void setup(void)
{
    ctx = fixture_open();
}

TEST(open_store)
{
    setup();
    CHECK(ctx != NULL);
}

TEST(close_store)
{
    cairn_close(ctx);
    ctx = NULL;
}

UNIT_MAIN(UNIT_CASE(open_store), UNIT_CASE(hash_text_round_trips_and_parses_strictly),
          UNIT_CASE(base64_both_alphabets_and_strict), UNIT_CASE(authorization_header_parser),
          UNIT_CASE(users_create_verify_passwd_admin_delete), UNIT_CASE(rules_name_the_problem),
          UNIT_CASE(unknown_user_costs_the_same_time),
          UNIT_CASE(tokens_create_verify_expire_revoke),
          UNIT_CASE(basic_header_checks_the_password),
          UNIT_CASE(permissions_admin_explicit_default_creator),
          UNIT_CASE(check_many_filters_a_page), UNIT_CASE(close_store))
