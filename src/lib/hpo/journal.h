/* SPDX-License-Identifier: MIT */
/* journal.h - the Optuna JournalStorage reader (journal.c): one study of a journal file,
 * replayed and mapped onto a cairn search space. Shared with the fuzz target. */
#ifndef CN_HPO_JOURNAL_H
#define CN_HPO_JOURNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn/hpo.h"

/* Limits of the reader (ELIMIT beyond, naming the line). */
#define CN_JOURNAL_MAX_BYTES (256u << 20)
#define CN_JOURNAL_MAX_LINE (1u << 20)
#define CN_JOURNAL_MAX_STUDIES 10000
#define CN_JOURNAL_MAX_TRIALS 1000000
#define CN_JOURNAL_MAX_STEPS 1000000 /* intermediate values of one trial */

/* One trial of the chosen study, in cairn's terms. */
typedef struct cn_journal_trial {
    int64_t number;
    cairn_trial_state state;
    bool has_value; /* COMPLETE (and PRUNED when Optuna stored one) */
    double value;
    int64_t start_ms, end_ms; /* 0: none */
    double *params;           /* n_params of the space, internal values, NaN: absent */
    size_t n_steps;           /* ascending */
    int64_t *steps;
    double *values;
    char *run_id; /* the user attr cairn.run_id, or NULL */
} cn_journal_trial;

/* One study of a journal, read. */
typedef struct cn_journal {
    char *study_name;
    bool maximize;
    char *space_text; /* the cairn search space (JSON built from the distributions seen, or
                         the cairn.space study attribute of a journal cairn wrote) */
    cairn_space_format space_format;
    bool from_cairn; /* space_text is the cairn.space attribute */
    char *objective; /* the cairn.objective attribute, or NULL */
    cairn_space *space;
    size_t n_trials;
    cn_journal_trial *trials; /* by number */
} cn_journal;

/* Replays text[0 .. len) (a JournalFileStorage file) and keeps the study named `study` (NULL:
 * the only one; several are EINVAL naming them). Errors name `label` and the line. */
cairn_status cn_journal_parse(cairn_ctx *ctx, const char *label, const char *text, size_t len,
                              const char *study, cn_journal **out);
void cn_journal_free(cn_journal *j); /* NULL is a no-op */

#endif
