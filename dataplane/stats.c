/* SPDX-License-Identifier: BSD-3-Clause */
/* The names, descriptions and advice of drop reasons and loop stages (stats.h). */
#include "stats.h"

static const char *const drop_names[DP_DROP_COUNT] = {
#define DP_X_NAME(name, str, advice) #name,
	DP_DROP_REASONS(DP_X_NAME)
#undef DP_X_NAME
};

static const char *const drop_strs[DP_DROP_COUNT] = {
#define DP_X_STR(name, str, advice) str,
	DP_DROP_REASONS(DP_X_STR)
#undef DP_X_STR
};

static const char *const drop_advice[DP_DROP_COUNT] = {
#define DP_X_ADVICE(name, str, advice) advice,
	DP_DROP_REASONS(DP_X_ADVICE)
#undef DP_X_ADVICE
};

static const char *const stage_names[DP_STAGE_COUNT] = {
#define DP_X_NAME(name, str) #name,
	DP_STAGES(DP_X_NAME)
#undef DP_X_NAME
};

const char *dp_stage_name(unsigned stage)
{
	return stage < DP_STAGE_COUNT ? stage_names[stage] : "UNKNOWN";
}

const char *dp_drop_name(unsigned reason)
{
	return reason < DP_DROP_COUNT ? drop_names[reason] : "UNKNOWN";
}

const char *dp_drop_str(unsigned reason)
{
	return reason < DP_DROP_COUNT ? drop_strs[reason] : "unknown reason";
}

const char *dp_drop_advice(unsigned reason)
{
	return reason < DP_DROP_COUNT ? drop_advice[reason] : "see gwartctl stats";
}
