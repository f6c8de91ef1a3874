/* SPDX-License-Identifier: MIT */
/* cmd_model_promote.c - `cairn model promote NAME VERSION --to ALIAS`: checks the promotion
 * gates (cairn_registry_promote), prints one line per gate with its evidence, and moves the
 * alias only when they pass or --force --reason overrides them. The thresholds come from the
 * promotion: section of --config, else of ./experiment-config.yaml when there is one.
 * docs/registry.md, "Promotion gates". */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cairn/registry.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/banned.h"

#define DEFAULT_CONFIG "experiment-config.yaml"

static void print_lines(const cairn_promotion *p)
{
    for (size_t i = 0; i < p->n_gates; i++) {
        const cairn_gate_result *g = &p->gates[i];
        printf("%-4s %-16s %s\n", cairn_gate_verdict_str(g->verdict), g->gate, g->evidence);
        if (g->fix)
            printf("     %-16s fix: %s\n", "", g->fix);
    }
    if (p->promoted && p->forced)
        printf("%s@%s -> version %lld, FORCED past %zu failed gate%s (recorded with the "
               "reason)\n",
               p->name, p->alias, (long long)p->version, p->n_failed, p->n_failed > 1 ? "s" : "");
    else if (p->promoted)
        printf("%s@%s -> version %lld (was %s%lld); every gate recorded in the history\n", p->name,
               p->alias, (long long)p->version, p->from_version ? "version " : "nowhere",
               (long long)p->from_version);
}

static int print_json(const cairn_promotion *p)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "name", p->name);
    cn_jsonw_kint(&w, "version", p->version);
    cn_jsonw_kstring(&w, "alias", p->alias);
    cn_jsonw_key(&w, "from_version");
    if (p->from_version)
        cn_jsonw_int(&w, p->from_version);
    else
        cn_jsonw_null(&w);
    cn_jsonw_kbool(&w, "promoted", p->promoted);
    cn_jsonw_kbool(&w, "forced", p->forced);
    cn_jsonw_key(&w, "gates");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < p->n_gates; i++) {
        const cairn_gate_result *g = &p->gates[i];
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "gate", g->gate);
        cn_jsonw_kstring(&w, "verdict", cairn_gate_verdict_str(g->verdict));
        cn_jsonw_kstring(&w, "evidence", g->evidence);
        cn_jsonw_kstring(&w, "fix", g->fix);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_key(&w, "comparison");
    if (!p->compared) {
        cn_jsonw_null(&w);
    } else {
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "test", p->test);
        cn_jsonw_kstring(&w, "metric", p->metric);
        cn_jsonw_kint(&w, "n", (int64_t)p->n_rows);
        cn_jsonw_kdouble(&w, "diff", p->diff);
        cn_jsonw_kdouble(&w, "diff_low", p->diff_low);
        cn_jsonw_kdouble(&w, "diff_high", p->diff_high);
        cn_jsonw_kdouble(&w, "pvalue", p->pvalue);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_kstring(&w, "event_reason", p->event_reason);
    cn_jsonw_object_end(&w);
    int rc = cn_jsonw_finish(&w) ? 0 : cli_error("writing the output failed");
    cn_jsonw_release(&w);
    return rc;
}

int cmd_model_promote(const char *usage, int argc, char **argv)
{
    enum { OPT_TO = 1, OPT_FORCE, OPT_REASON, OPT_CONFIG, OPT_JSON };
    static const struct option longopts[] = {{"to", required_argument, NULL, OPT_TO},
                                             {"force", no_argument, NULL, OPT_FORCE},
                                             {"reason", required_argument, NULL, OPT_REASON},
                                             {"config", required_argument, NULL, OPT_CONFIG},
                                             {"json", no_argument, NULL, OPT_JSON},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    cairn_promote_opts o = CAIRN_PROMOTE_OPTS_INIT;
    const char *config = NULL;
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': cli_help(usage, NULL); return 0;
        case OPT_TO: o.alias = optarg; break;
        case OPT_FORCE: o.force = true; break;
        case OPT_REASON: o.reason = optarg; break;
        case OPT_CONFIG: config = optarg; break;
        case OPT_JSON: json = true; break;
        default: return cli_other_option(c, usage, NULL, argv);
        }
    }
    int64_t version;
    if (argc - optind != 2)
        return cli_usage(usage, "expected a model NAME and a VERSION");
    if (!cn_parse_int64(argv[optind + 1], &version) || version < 1)
        return cli_usage(usage, "version '%s': expected a whole number from 1", argv[optind + 1]);
    if (!o.alias)
        return cli_usage(usage, "missing --to ALIAS (e.g. --to production)");
    if (o.force && (!o.reason || !*o.reason))
        return cli_usage(usage, "--force needs --reason TEXT: the override is recorded with why");
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    cairn_promotion_policy *policy = NULL;
    cairn_promotion *p = NULL;
    int rc = 1;
    if (!config && access(DEFAULT_CONFIG, F_OK) == 0)
        config = DEFAULT_CONFIG;
    if (config && cairn_promotion_policy_load(ctx, config, &policy) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    if (policy) {
        o.min_metric = policy->min_metric;
        o.n_min_metric = policy->n_min_metric;
        o.max_p99_ms = policy->max_p99_ms;
        o.max_size_bytes = policy->max_size_bytes;
    }
    cairn_status st = cairn_registry_promote(ctx, argv[optind], version, &o, &p);
    if (!p) {
        cli_fail(ctx);
        goto done;
    }
    if (json)
        print_json(p);
    else
        print_lines(p);
    if (st != CAIRN_OK)
        cli_fail(ctx);
    else
        rc = 0;
done:
    cairn_promotion_free(p);
    cairn_promotion_policy_free(policy);
    cairn_close(ctx);
    return rc;
}
