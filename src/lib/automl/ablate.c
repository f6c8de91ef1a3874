/* SPDX-License-Identifier: MIT */
/* ablate.c - placeholder */
#include "cairn/train.h"
#include "base/banned.h"
