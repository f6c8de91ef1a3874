/* SPDX-License-Identifier: MIT */
/* db_faulty.h - a cn_db_ops that wraps a real driver and fails its Nth backend call (prepare,
 * step, exec, begin, commit), as "database is locked" or "disk full", so tests reach every
 * error path of the store (STYLE §10; curl's -t). Tests only. */
#ifndef CN_DB_FAULTY_H
#define CN_DB_FAULTY_H
#include "store/db.h"

typedef enum cn_fault_kind {
    CN_FAULT_BUSY,     /* CAIRN_EDB "database is locked" */
    CN_FAULT_DISK_FULL /* CAIRN_EIO "disk full" */
} cn_fault_kind;

/* Owned by the caller; the driver reads and updates it on every counted call. */
typedef struct cn_db_faults {
    int fail_at; /* the 1-based call to fail; 0: none */
    cn_fault_kind kind;
    int calls; /* counted calls so far */
    bool hit;  /* the fault was injected */
} cn_db_faults;

extern const cn_db_ops cn_db_faulty_ops;

/* Swaps the SQL store of ctx onto a faulty driver around its real connection; closing the
 * context closes both. f must outlive the context. */
cairn_status cn_db_faulty_install(cairn_ctx *ctx, cn_db_faults *f);
#endif
