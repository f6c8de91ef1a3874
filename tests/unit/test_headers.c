/* SPDX-License-Identifier: MIT */
/* test_headers.c - every public header in one translation unit: a program that links libcairn
 * may include them all (two headers once declared the same enum with different values; this
 * file then does not compile). */
#include "cairn/auth.h"
#include "cairn/cairn.h"
#include "cairn/data.h"
#include "cairn/drift.h"
#include "cairn/eval.h"
#include "cairn/explain.h"
#include "cairn/hpo.h"
#include "cairn/learn.h"
#include "cairn/logged_model.h"
#include "cairn/registry.h"
#include "cairn/runner.h"
#include "cairn/tracking.h"
#include "cairn/train.h"
#include "unit.h"

TEST(every_public_header_together)
{
    /* The learners' param types and the search spaces' are distinct types. */
    cairn_param_type learner = CAIRN_PARAM_CATEGORICAL;
    cairn_space_param_type space = CAIRN_SPACE_PARAM_CATEGORICAL;
    CHECK((int)learner == 4);
    CHECK((int)space == 3);
    CHECK(strcmp(cairn_status_str(CAIRN_OK), "") != 0);
}

UNIT_MAIN(UNIT_CASE(every_public_header_together))
