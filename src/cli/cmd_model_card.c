/* SPDX-License-Identifier: MIT */
/* cmd_model_card.c - `cairn model card NAME@VERSION`: writes the version's model card
 * (cairn_model_card_make), stores it with the version, and shows a stored one (--show).
 * docs/model-cards.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/registry.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/banned.h"

/* "NAME@VERSION" (or models:/NAME/VERSION) into its parts; false when it is neither. */
bool cli_parse_name_version(const char *arg, char *name, size_t name_size, int64_t *version)
{
    const char *sep;
    if (cn_str_starts(arg, "models:/")) {
        arg += strlen("models:/");
        sep = strrchr(arg, '/');
    } else {
        sep = strrchr(arg, '@');
    }
    if (!sep || sep == arg || (size_t)(sep - arg) >= name_size ||
        !cn_parse_int64(sep + 1, version) || *version < 1)
        return false;
    memcpy(name, arg, (size_t)(sep - arg));
    name[sep - arg] = 0;
    return true;
}

static int print_json(const cairn_model_card *c, const char *file)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kbool(&w, "complete", c->complete);
    cn_jsonw_kstring(&w, "missing", c->missing);
    cn_jsonw_kstring(&w, "human_source", c->human_source);
    cn_jsonw_kstring(&w, "stored_as", c->stored_as);
    cn_jsonw_kstring(&w, "file", file);
    cn_jsonw_kstring(&w, "markdown", c->markdown);
    cn_jsonw_object_end(&w);
    int rc = cn_jsonw_finish(&w) ? 0 : cli_error("writing the output failed");
    cn_jsonw_release(&w);
    return rc;
}

int cmd_model_card(const char *usage, int argc, char **argv)
{
    enum { OPT_TEMPLATE = 1, OPT_SHOW, OPT_NO_STORE, OPT_JSON };
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"template", required_argument, NULL, OPT_TEMPLATE},
                                             {"show", no_argument, NULL, OPT_SHOW},
                                             {"no-store", no_argument, NULL, OPT_NO_STORE},
                                             {"json", no_argument, NULL, OPT_JSON},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *out = NULL;
    bool show = false, json = false;
    cairn_model_card_opts o = CAIRN_MODEL_CARD_OPTS_INIT;
    o.store = true;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': cli_help(usage, NULL); return 0;
        case 'o': out = optarg; break;
        case OPT_TEMPLATE: o.template_path = optarg; break;
        case OPT_SHOW: show = true; break;
        case OPT_NO_STORE: o.store = false; break;
        case OPT_JSON: json = true; break;
        default: return cli_other_option(c, usage, NULL, argv);
        }
    }
    char name[CAIRN_MODEL_NAME_MAX + 1];
    int64_t version;
    if (argc - optind != 1)
        return cli_usage(usage, "expected one NAME@VERSION (e.g. churn@3)");
    if (!cli_parse_name_version(argv[optind], name, sizeof name, &version))
        return cli_usage(usage,
                         "'%s': expected NAME@VERSION with a version number from 1 (e.g. "
                         "churn@3)",
                         argv[optind]);
    if (show && (o.template_path || !o.store))
        return cli_usage(usage, "--show prints the stored card; it takes no --template or "
                                "--no-store");
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    cairn_model_card *card = NULL;
    cairn_status st = show ? cairn_model_card_get(ctx, name, version, &card)
                           : cairn_model_card_make(ctx, name, version, &o, &card);
    int rc = 0;
    if (st != CAIRN_OK) {
        rc = cli_fail(ctx);
        goto done;
    }
    if (out) {
        int e = cn_fs_write_atomic(out, card->markdown, strlen(card->markdown));
        if (e) {
            rc = cli_error("cannot write '%s': %s", out, cn_fs_strerror(e));
            goto done;
        }
    }
    if (json) {
        rc = print_json(card, out);
    } else {
        if (!out)
            fputs(card->markdown, stdout);
        else
            printf("wrote %s\n", out);
        if (card->stored_as && !show)
            fprintf(out ? stdout : stderr, "stored as %s\n", card->stored_as);
        if (!show)
            fprintf(stderr, "cairn: the person's sections came from %s\n", card->human_source);
    }
    if (!card->complete)
        fprintf(stderr,
                "cairn: warning: the card is incomplete: not yet written: %s; write them in "
                "model-card.md and run `cairn model card %s@%lld --template model-card.md` "
                "(promotion refuses an incomplete card)\n",
                card->missing, name, (long long)version);
done:
    cairn_model_card_free(card);
    cairn_close(ctx);
    return rc;
}
