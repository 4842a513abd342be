#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Helpers for scripts that reach the Linux stack: everything runs inside a
# network namespace the script creates and removes, addressed from the
# benchmarking range 198.18.0.0/15; nothing leaves it.
#
#   . deploy/netns.sh
#   gw_netns_create NAME      create NAME (loopback up)
#   gw_netns_destroy NAME     kill what runs in it, delete it
#   gw_wait_link NAME IFACE S wait up to S seconds for IFACE to appear in NAME

gw_netns_create() {
	ip netns add "$1"
	ip -n "$1" link set lo up
}

gw_netns_destroy() {
	pids=$(ip netns pids "$1" 2>/dev/null || true)
	[ -n "$pids" ] && kill $pids 2>/dev/null || true
	sleep 0.2
	pids=$(ip netns pids "$1" 2>/dev/null || true)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
	ip netns del "$1" 2>/dev/null || true
}

gw_wait_link() {
	i=0
	while ! ip -n "$1" link show "$2" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -gt $(($3 * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}
