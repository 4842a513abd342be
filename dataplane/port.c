/* SPDX-License-Identifier: BSD-3-Clause */
/* placeholder: being written */
typedef int gw_placeholder_t;
