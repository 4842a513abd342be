#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# deploy/host-prep.sh: --dry-run for the production example prints the
# actions it would take and changes nothing, on this host's /sys (hugepage
# counts and hugetlbfs mounts compared before and after) and on a stand-in
# /sys tree (HOST_PREP_SYSFS: two NUMA nodes, an IOMMU, the example's two
# NICs) where its output is exact; each failed check (interface up, the
# management interface, no IOMMU, no such device or node) has its message,
# exit 1 and nothing done, also in a real run; bad arguments exit 2 with a
# message naming the argument. No root needed (a real run is tried as root
# only, and only where a check stops it).
#   host_prep.sh SOURCE_ROOT
set -u
src=$1
hp="$src/deploy/host-prep.sh"
prod="$src/deploy/examples/prod-16core.json"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ---- 1. this host's /sys: nothing changes ----
state() {
	for f in /sys/kernel/mm/hugepages/*/nr_hugepages \
		/sys/devices/system/node/node*/hugepages/*/nr_hugepages; do
		[ -e "$f" ] && echo "$f $(cat "$f")"
	done
	grep hugetlbfs /proc/mounts || true
	[ -e /dev/hugepages1G ] && echo "/dev/hugepages1G exists"
	true
}
state >"$tmp/before"
rc=0
sh "$hp" --dry-run --config "$prod" >"$tmp/out" 2>"$tmp/err" || rc=$?
state >"$tmp/after"
diff -u "$tmp/before" "$tmp/after" || fail "host state changed by --dry-run"
# Checks depend on the host (no IOMMU, no such NIC here): 0 or 1, never 2.
[ $rc -eq 0 ] || [ $rc -eq 1 ] || { cat "$tmp/err"; fail "dry run on /sys: exit $rc"; }
[ $rc -eq 0 ] || grep -q '^host-prep: check failed: ' "$tmp/err" ||
	fail "dry run on /sys: exit 1 without a failed check"
for want in 'isolcpus=managed_irq,domain,2-13 nohz_full=2-13 rcu_nocbs=2-13' \
	'^\(dry-run\) .*dpdk-devbind.py -b vfio-pci 0000:3b:00.0$' \
	'^\(dry-run\) .*dpdk-devbind.py -b vfio-pci 0000:3b:00.1$'; do
	grep -Eq -- "$want" "$tmp/out" || { cat "$tmp/out"; fail "dry run on /sys: no /$want/"; }
done
# 4 GB of 1 GB pages: reserved, there already, or a check says why not.
grep -q '^(dry-run) echo 4 > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages$' "$tmp/out" ||
	grep -q 'hugepages-1048576kB/nr_hugepages: 4 already$' "$tmp/out" ||
	grep -q 'check failed: 1 GB pages' "$tmp/err" ||
	{ cat "$tmp/out" "$tmp/err"; fail "dry run on /sys: no 1 GB page reservation"; }

# ---- 2. a stand-in /sys: exact output ----
S="$tmp/sys"
mk() { mkdir -p "$(dirname "$1")" && echo "$2" >"$1"; }
for kb in 2048 1048576; do
	mk "$S/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages" 0
	for n in 0 1; do
		mk "$S/devices/system/node/node$n/hugepages/hugepages-${kb}kB/nr_hugepages" 0
	done
done
mk "$S/devices/system/cpu/present" 0-15
mkdir -p "$S/kernel/iommu_groups/40" "$S/kernel/iommu_groups/41" "$S/bus/pci/drivers/vfio-pci"
i=0
for pci in 0000:3b:00.0 0000:3b:00.1; do
	d="$S/bus/pci/devices/$pci"
	mk "$d/net/gwtens$i/operstate" down
	echo 0x1002 >"$d/net/gwtens$i/flags"
	ln -s "$S/kernel/iommu_groups/4$i" "$d/iommu_group"
	i=$((i + 1))
done
printf '#!/bin/sh\necho "$@" >>%s/devbind.ran\n' "$tmp" >"$tmp/devbind.py"
chmod +x "$tmp/devbind.py"
(cd "$S" && find . -type f -exec cat {} + | cksum) >"$tmp/sys.before"

hpf() { HOST_PREP_SYSFS="$S" sh "$hp" --devbind "$tmp/devbind.py" --mount-1g "$tmp/huge1G" "$@"; }

cat >"$tmp/want" <<EOF
host-prep: dry run: the lines starting "(dry-run)" are what a real run does
(dry-run) echo 4 > $S/devices/system/node/node0/hugepages/hugepages-1048576kB/nr_hugepages
(dry-run) echo 4 > $S/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages
(dry-run) mkdir -p $tmp/huge1G
(dry-run) mount -t hugetlbfs -o pagesize=1G nodev $tmp/huge1G
host-prep: CPU isolation advice (not applied: it takes a reboot). Workers busy-poll
their CPUs; keep the kernel's timers, RCU callbacks and interrupts off them. Add
to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then
update-grub and reboot):
  isolcpus=managed_irq,domain,2-13 nohz_full=2-13 rcu_nocbs=2-13 irqaffinity=0,14,15
  (control lcore on CPU 1: not isolated; it sleeps in epoll between its polls)
  (CPUs 0,14,15 stay the kernel's: interrupts, the OS, gwartctl)
(dry-run) $tmp/devbind.py -b vfio-pci 0000:3b:00.0
(dry-run) $tmp/devbind.py -b vfio-pci 0000:3b:00.1
EOF
rc=0
hpf --dry-run --per-node --config "$prod" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ $rc -eq 0 ] || { cat "$tmp/err"; fail "stand-in dry run: exit $rc"; }
[ ! -s "$tmp/err" ] || { cat "$tmp/err"; fail "stand-in dry run: messages on stderr"; }
grep -v '^  running kernel:' "$tmp/out" | diff -u "$tmp/want" - || fail "stand-in dry run: output"
# Options win over the config: 2 MB pages on node 1 instead, other workers.
hpf --dry-run --numa-node 1 --hugepages-2m 512 --workers 4-7 --config "$prod" >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; fail "stand-in dry run with options"; }
grep -qx "(dry-run) echo 512 > $S/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages" \
	"$tmp/out" || { cat "$tmp/out"; fail "no 2 MB reservation on node 1"; }
grep -q 'hugepages-1048576kB' "$tmp/out" && fail "1 GB pages reserved though --hugepages-2m was given"
grep -q '^  isolcpus=managed_irq,domain,4-7 nohz_full=4-7 rcu_nocbs=4-7 irqaffinity=0,2,3,8,9,10,11,12,13,14,15$' \
	"$tmp/out" || { cat "$tmp/out"; fail "--workers did not win"; }

# expect_check WHAT PATTERN ARGS...: a dry run with ARGS exits 1 with a
# failed check matching PATTERN on stderr.
expect_check() {
	what=$1 pat=$2
	shift 2
	rc=0
	hpf --dry-run "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ $rc -eq 1 ] || { cat "$tmp/err"; fail "$what: exit $rc, not 1"; }
	grep -Eq -- "^host-prep: check failed: $pat" "$tmp/err" || { cat "$tmp/err"; fail "$what: message"; }
}
echo up >"$S/bus/pci/devices/0000:3b:00.1/net/gwtens1/operstate"
expect_check "interface up" \
	'0000:3b:00.1 is gwtens1 and it is up: take it down first \(ip link set gwtens1 down\)' --config "$prod"
# A real run (root only) stops at the same check: nothing changed.
if [ "$(id -u)" = 0 ]; then
	rc=0
	hpf --per-node --config "$prod" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ $rc -eq 1 ] && grep -q '^host-prep: nothing was changed$' "$tmp/err" ||
		{ cat "$tmp/out" "$tmp/err"; fail "real run with a failed check: exit $rc"; }
	grep -q '^+ ' "$tmp/out" && { cat "$tmp/out"; fail "real run acted despite a failed check"; }
fi
echo down >"$S/bus/pci/devices/0000:3b:00.1/net/gwtens1/operstate"
expect_check "management interface" '0000:3b:00.0 is gwtens0, a management interface' \
	--mgmt gwtens0 --config "$prod"
expect_check "no such device" '0000:3b:00.2: no such PCI device' --bind 0000:3b:00.2
expect_check "no such node" 'NUMA node 3: no such node' --numa-node 3 --hugepages-2m 8
rmdir "$S/kernel/iommu_groups/40" "$S/kernel/iommu_groups/41"
expect_check "no IOMMU" 'no IOMMU .*intel_iommu=on' --config "$prod"
mkdir "$S/kernel/iommu_groups/40" "$S/kernel/iommu_groups/41"
(cd "$S" && find . -type f -exec cat {} + | cksum) >"$tmp/sys.after"
diff "$tmp/sys.before" "$tmp/sys.after" >/dev/null || fail "the stand-in /sys was written"
[ ! -e "$tmp/devbind.ran" ] || fail "dpdk-devbind.py ran: $(cat "$tmp/devbind.ran")"
[ ! -e "$tmp/huge1G" ] || fail "a mount directory was made"

# ---- 3. bad arguments: exit 2, the argument named ----
bad() {
	pat=$1
	shift
	rc=0
	sh "$hp" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ $rc -eq 2 ] || fail "$*: exit $rc, not 2"
	grep -q -- "$pat" "$tmp/err" || { cat "$tmp/err"; fail "$*: no message /$pat/"; }
}
bad '^host-prep: --hugepages-1g: not a number: x$' --dry-run --hugepages-1g x
bad '^host-prep: --hugepages-2m: not a number: -1$' --dry-run --hugepages-2m -1
bad '^host-prep: --bind: not a PCI address' --dry-run --bind 0000:3B:00.0
bad '^host-prep: --workers: not a CPU list' --dry-run --workers 2-
bad '^host-prep: --driver: not vfio-pci' --dry-run --driver e1000 --bind 0000:3b:00.0
bad '^host-prep: unknown argument: --bogus$' --dry-run --bogus
bad '^host-prep: --numa-node and --per-node: give one$' --dry-run --numa-node 0 --per-node --hugepages-2m 1
bad '^host-prep: --hugepages-1g needs a value$' --dry-run --hugepages-1g
bad '^host-prep: nothing to do' --dry-run
bad '^host-prep: --config: cannot read /nonexistent.json$' --dry-run --config /nonexistent.json
sh "$hp" --help | grep -q '^usage: host-prep.sh' || fail "--help"
echo "host_prep: ok"
