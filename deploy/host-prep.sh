#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Prepare a host for gwartd (run as root, before the service starts; again
# after each reboot, e.g. from a oneshot unit before gwartd.service):
#   - reserve 2 MB and 1 GB hugepages (system-wide, on one NUMA node, or on
#     every node) and mount hugetlbfs for each size EAL will use;
#   - print CPU isolation advice for the worker cores (isolcpus, nohz_full,
#     rcu_nocbs, irqaffinity): printed, never applied to the running kernel;
#   - bind NICs to vfio-pci with dpdk-devbind.py, after checks: the IOMMU is
#     on, the device exists, its kernel interface is down, and it is not the
#     management interface (default route, SSH session, --mgmt).
# Every check runs before anything is changed; one that fails is printed
# with what to do, and nothing is done (exit 1). --dry-run prints every
# action (lines starting "(dry-run) ") and the checks' verdicts, changes
# nothing and needs no root.
#
#   host-prep.sh [--dry-run] [--config FILE] [--hugepages-2m N] [--hugepages-1g N]
#                [--numa-node N | --per-node] [--mount-2m DIR] [--mount-1g DIR]
#                [--workers CPUS] [--control CPU] [--bind PCI]... [--driver DRV]
#                [--mgmt IFACE]... [--devbind PATH]
#
# --config FILE (a gwartd config, deploy/examples/prod-16core.json) fills in
# what the options do not give: workers = eal.lcores without eal.main_lcore
# (a plain list, lcore = CPU), control = eal.main_lcore, --bind = every
# ports[].device that is a PCI address, and with "hugepages" not false,
# --hugepages-1g = eal.memory_mb rounded up to whole GB.
#
# Exit: 0 done (or, dry run, every check passed), 1 a check failed, 2 bad
# arguments. HOST_PREP_SYSFS (default /sys) is for tests only: a tree that
# stands in for /sys.
set -u

SYS=${HOST_PREP_SYSFS:-/sys}
DRY=0
CONFIG=""
HP2M=""
HP1G=""
NODE=""
PER_NODE=0
MNT2M=/dev/hugepages
MNT1G=/dev/hugepages1G
WORKERS=""
CONTROL=""
BIND=""
DRIVER=vfio-pci
MGMT=""
DEVBIND=""
FAILED=0

usage() {
	cat <<'EOF'
usage: host-prep.sh [--dry-run] [--config FILE] [--hugepages-2m N] [--hugepages-1g N]
                    [--numa-node N | --per-node] [--mount-2m DIR] [--mount-1g DIR]
                    [--workers CPUS] [--control CPU] [--bind PCI]... [--driver DRV]
                    [--mgmt IFACE]... [--devbind PATH]
  --dry-run         print every action, do none of them (no root needed)
  --config FILE     a gwartd config: workers, control, NICs and 1 GB pages from
                    its "eal" and ports[].device where no option gives them
  --hugepages-2m N  2 MB pages to reserve (system-wide, or per --numa-node /
  --hugepages-1g N  1 GB pages              --per-node)
  --numa-node N     reserve on NUMA node N only (the NICs' node: see
                    /sys/bus/pci/devices/PCI/numa_node)
  --per-node        reserve N on every NUMA node
  --mount-2m DIR    hugetlbfs mount for 2 MB pages (default /dev/hugepages)
  --mount-1g DIR    hugetlbfs mount for 1 GB pages (default /dev/hugepages1G)
  --workers CPUS    worker CPUs (a list: 2-13 or 2,4,6-9) for the isolation advice
  --control CPU     the control (main) lcore's CPU
  --bind PCI        a NIC to bind (0000:3b:00.0), repeatable
  --driver DRV      the driver to bind to (default vfio-pci)
  --mgmt IFACE      an interface never to bind (besides the default route's
                    and the SSH session's), repeatable
  --devbind PATH    dpdk-devbind.py (default: from PATH or DPDK's usertools)
Exit: 0 done, 1 a check failed (nothing changed), 2 bad arguments.
EOF
}

bad() {
	echo "host-prep: $*" >&2
	echo "host-prep: see host-prep.sh --help" >&2
	exit 2
}

# A failed check: its message, and nothing will be changed.
check_failed() {
	echo "host-prep: check failed: $*" >&2
	FAILED=1
}

is_num() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	return 0
}

is_cpulist() {
	case $1 in '' | *[!0-9,-]* | ,* | *, | -* | *- | *,,* | *--* | *,-* | *-,*) return 1 ;; esac
	return 0
}

is_pci() {
	echo "$1" | grep -Eq '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$'
}

need_arg() {
	[ $# -ge 2 ] || bad "$1 needs a value"
}

while [ $# -gt 0 ]; do
	case $1 in
	--dry-run) DRY=1 ;;
	--config) need_arg "$@"; CONFIG=$2; shift ;;
	--hugepages-2m) need_arg "$@"; is_num "$2" || bad "--hugepages-2m: not a number: $2"
		HP2M=$2; shift ;;
	--hugepages-1g) need_arg "$@"; is_num "$2" || bad "--hugepages-1g: not a number: $2"
		HP1G=$2; shift ;;
	--numa-node) need_arg "$@"; is_num "$2" || bad "--numa-node: not a node number: $2"
		NODE=$2; shift ;;
	--per-node) PER_NODE=1 ;;
	--mount-2m) need_arg "$@"; MNT2M=$2; shift ;;
	--mount-1g) need_arg "$@"; MNT1G=$2; shift ;;
	--workers) need_arg "$@"; is_cpulist "$2" || bad "--workers: not a CPU list (2-13, 2,4,6-9): $2"
		WORKERS=$2; shift ;;
	--control) need_arg "$@"; is_num "$2" || bad "--control: not a CPU number: $2"
		CONTROL=$2; shift ;;
	--bind) need_arg "$@"; is_pci "$2" || bad "--bind: not a PCI address (0000:3b:00.0, lower-case): $2"
		BIND="$BIND $2"; shift ;;
	--driver) need_arg "$@"
		case $2 in vfio-pci | uio_pci_generic | igb_uio) ;;
		*) bad "--driver: not vfio-pci, uio_pci_generic or igb_uio: $2" ;; esac
		DRIVER=$2; shift ;;
	--mgmt) need_arg "$@"; MGMT="$MGMT $2"; shift ;;
	--devbind) need_arg "$@"; DEVBIND=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) bad "unknown argument: $1" ;;
	esac
	shift
done
[ -n "$NODE" ] && [ $PER_NODE = 1 ] && bad "--numa-node and --per-node: give one"
case $MNT2M$MNT1G in *[!A-Za-z0-9/_.-]*) bad "a mount directory with odd characters" ;; esac

# ---- what the config says -----------------------------------------------------
if [ -n "$CONFIG" ]; then
	[ -r "$CONFIG" ] || bad "--config: cannot read $CONFIG"
	command -v python3 >/dev/null 2>&1 || bad "--config needs python3"
	# One "key value" line each; lcores only when it is a plain CPU list.
	cfgv=$(python3 - "$CONFIG" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("error %s" % e); sys.exit(0)
e = d.get("eal", {}) if isinstance(d, dict) else {}
if not isinstance(e, dict):
    e = {}
def expand(s):
    out = []
    for part in s.split(","):
        a, _, b = part.partition("-")
        out += range(int(a), int(b or a) + 1)
    return out
lc = e.get("lcores")
main = e.get("main_lcore")
if isinstance(lc, str) and lc and all(c in "0123456789,-" for c in lc):
    cpus = expand(lc)
    if main is None:
        main = min(cpus)
    w = [c for c in cpus if c != main]
    # back to a compact list
    parts, i = [], 0
    while i < len(w):
        j = i
        while j + 1 < len(w) and w[j + 1] == w[j] + 1:
            j += 1
        parts.append(str(w[i]) if i == j else "%d-%d" % (w[i], w[j]))
        i = j + 1
    print("workers " + ",".join(parts))
elif lc is not None:
    print("lcores_complex " + str(lc))
if isinstance(main, int):
    print("control %d" % main)
if e.get("hugepages", True) is not False and isinstance(e.get("memory_mb"), int):
    print("hp1g %d" % ((e["memory_mb"] + 1023) // 1024))
for p in d.get("ports", []) if isinstance(d, dict) else []:
    dev = p.get("device", "") if isinstance(p, dict) else ""
    if isinstance(dev, str) and len(dev.split(",")[0]) == 12 and dev[4] == ":":
        print("bind " + dev.split(",")[0])
EOF
)
	while read -r k v; do
		case $k in
		error) bad "--config $CONFIG: $v" ;;
		workers) [ -n "$WORKERS" ] || WORKERS=$v ;;
		lcores_complex) [ -n "$WORKERS" ] ||
			bad "--config: eal.lcores \"$v\" maps lcores to CPUs: give --workers CPUS" ;;
		control) [ -n "$CONTROL" ] || CONTROL=$v ;;
		hp1g) [ -n "$HP1G$HP2M" ] || HP1G=$v ;;
		bind) case " $BIND " in *" $v "*) ;; *) BIND="$BIND $v" ;; esac ;;
		esac
	done <<EOF
$cfgv
EOF
fi
[ -n "$HP2M$HP1G$WORKERS$BIND" ] || bad "nothing to do: give --config FILE or an action (--help)"

if [ $DRY = 1 ]; then
	echo "host-prep: dry run: the lines starting \"(dry-run)\" are what a real run does"
elif [ "$(id -u)" != 0 ]; then
	echo "host-prep: needs root (or --dry-run)" >&2
	exit 1
fi

# act CMD...: an action, printed; done unless dry run.
act() {
	if [ $DRY = 1 ]; then
		echo "(dry-run) $*"
	else
		echo "+ $*"
		"$@" || { echo "host-prep: failed: $*" >&2; exit 1; }
	fi
}

# act_write VALUE FILE: a sysfs write, printed; done unless dry run.
act_write() {
	if [ $DRY = 1 ]; then
		echo "(dry-run) echo $1 > $2"
	else
		echo "+ echo $1 > $2"
		echo "$1" >"$2" || { echo "host-prep: failed: echo $1 > $2" >&2; exit 1; }
	fi
}

# ---- checks (all of them first) ---------------------------------------------------

# nr_files KB: the nr_hugepages files the reservation of KB-sized pages writes.
nr_files() {
	if [ $PER_NODE = 1 ]; then
		for n in "$SYS"/devices/system/node/node[0-9]*; do
			echo "$n/hugepages/hugepages-$1kB/nr_hugepages"
		done
	elif [ -n "$NODE" ]; then
		echo "$SYS/devices/system/node/node$NODE/hugepages/hugepages-$1kB/nr_hugepages"
	else
		echo "$SYS/kernel/mm/hugepages/hugepages-$1kB/nr_hugepages"
	fi
}

check_pages() { # COUNT KB NAME
	[ -n "$1" ] || return 0
	if [ ! -d "$SYS/kernel/mm/hugepages/hugepages-$2kB" ]; then
		check_failed "$3 pages: this kernel or CPU has none ($SYS/kernel/mm/hugepages/hugepages-$2kB missing; 1 GB pages need the pdpe1gb CPU flag)"
		return
	fi
	if [ -n "$NODE" ] && [ ! -d "$SYS/devices/system/node/node$NODE" ]; then
		check_failed "NUMA node $NODE: no such node (ls $SYS/devices/system/node)"
		return
	fi
	for f in $(nr_files "$2"); do
		[ -e "$f" ] || check_failed "$3 pages: $f missing"
	done
}
check_pages "$HP2M" 2048 "2 MB"
check_pages "$HP1G" 1048576 "1 GB"

if [ -n "$BIND" ]; then
	if [ -z "$DEVBIND" ]; then
		DEVBIND=$(command -v dpdk-devbind.py 2>/dev/null ||
			ls /usr/share/dpdk/usertools/dpdk-devbind.py 2>/dev/null || true)
	fi
	[ -n "$DEVBIND" ] && [ -x "$DEVBIND" ] ||
		check_failed "dpdk-devbind.py not found (apt-get install dpdk, or --devbind PATH)"
	if [ "$DRIVER" = vfio-pci ] && [ -z "$(ls "$SYS/kernel/iommu_groups" 2>/dev/null)" ]; then
		check_failed "no IOMMU ($SYS/kernel/iommu_groups is empty): vfio-pci needs one: enable VT-d / AMD-Vi in the firmware and boot with intel_iommu=on iommu=pt (Intel) or amd_iommu=on"
	fi
	# The interfaces that carry this host's management traffic.
	mgmt="$MGMT $(ip -o route show default 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p')"
	if [ -n "${SSH_CONNECTION:-}" ]; then
		sship=$(echo "$SSH_CONNECTION" | awk '{print $3}')
		mgmt="$mgmt $(ip -o route get "$sship" 2>/dev/null | sed -n 's/.* dev \([^ ]*\).*/\1/p')"
	fi
	for pci in $BIND; do
		d="$SYS/bus/pci/devices/$pci"
		if [ ! -e "$d" ]; then
			check_failed "$pci: no such PCI device (lspci -D lists this host's; dpdk-devbind.py --status the NICs)"
			continue
		fi
		if [ "$DRIVER" = vfio-pci ] && [ ! -e "$d/iommu_group" ]; then
			check_failed "$pci: in no IOMMU group (is the IOMMU on for it? see dmesg | grep -i -e DMAR -e IOMMU)"
		fi
		for ifdir in "$d"/net/*; do
			[ -e "$ifdir" ] || continue
			ifn=$(basename "$ifdir")
			case " $mgmt " in *" $ifn "*)
				check_failed "$pci is $ifn, a management interface (default route, SSH session or --mgmt): binding it cuts this host off"
				continue ;;
			esac
			state=$(cat "$ifdir/operstate" 2>/dev/null || echo unknown)
			flags=$(cat "$ifdir/flags" 2>/dev/null || echo 0x0)
			if [ "$state" = up ] || [ $((flags & 1)) = 1 ]; then
				check_failed "$pci is $ifn and it is up: take it down first (ip link set $ifn down), after moving its traffic elsewhere"
			fi
		done
	done
fi

if [ $FAILED = 1 ] && [ $DRY = 0 ]; then
	echo "host-prep: nothing was changed" >&2
	exit 1
fi

# ---- hugepages ------------------------------------------------------------------------

# reserve COUNT KB SIZE MOUNTDIR
reserve() {
	[ -n "$1" ] || return 0
	for f in $(nr_files "$2"); do
		have=$(cat "$f" 2>/dev/null || echo 0)
		if [ "$have" = "$1" ]; then
			echo "host-prep: $f: $1 already"
			continue
		fi
		act_write "$1" "$f"
		if [ $DRY = 0 ]; then
			got=$(cat "$f")
			[ "$got" -ge "$1" ] || {
				echo "host-prep: only $got of $1 $3 pages in $f (memory too fragmented now): reserve them at boot: default_hugepagesz=$3 hugepagesz=$3 hugepages=$1 on the kernel command line" >&2
				exit 1
			}
		fi
	done
	if awk -v d="$4" -v s="$3" '$2 == d && $3 == "hugetlbfs" && $4 ~ "pagesize=" s { f = 1 } END { exit !f }' /proc/mounts; then
		echo "host-prep: $4: hugetlbfs (pagesize=$3) mounted already"
	else
		act mkdir -p "$4"
		act mount -t hugetlbfs -o "pagesize=$3" nodev "$4"
	fi
}
reserve "$HP2M" 2048 2M "$MNT2M"
reserve "$HP1G" 1048576 1G "$MNT1G"

# ---- CPU isolation advice (printed only) --------------------------------------------

if [ -n "$WORKERS" ]; then
	present=$(cat "$SYS/devices/system/cpu/present" 2>/dev/null || echo "")
	# The CPUs left to the kernel: present minus workers minus control.
	rest=$(echo "$present $WORKERS ${CONTROL:-x}" | awk '
		function expand(s, set,   n, i, a, r) {
			n = split(s, a, ",")
			for (i = 1; i <= n; i++) {
				if (split(a[i], r, "-") == 2) { for (c = r[1]; c <= r[2]; c++) set[c] = 1 }
				else if (a[i] != "" && a[i] != "x") set[a[i] + 0] = 1
			}
		}
		{ expand($1, p); expand($2, w); expand($3, w)
		  out = ""; for (c = 0; c < 4096; c++) if ((c in p) && !(c in w)) out = out (out == "" ? "" : ",") c
		  print out }')
	cat <<EOF
host-prep: CPU isolation advice (not applied: it takes a reboot). Workers busy-poll
their CPUs; keep the kernel's timers, RCU callbacks and interrupts off them. Add
to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then
update-grub and reboot):
  isolcpus=managed_irq,domain,$WORKERS nohz_full=$WORKERS rcu_nocbs=$WORKERS${rest:+ irqaffinity=$rest}
EOF
	[ -n "$CONTROL" ] && echo "  (control lcore on CPU $CONTROL: not isolated; it sleeps in epoll between its polls)"
	[ -n "$rest" ] && echo "  (CPUs $rest stay the kernel's: interrupts, the OS, gwartctl)"
	grep -qw "isolcpus" /proc/cmdline 2>/dev/null &&
		echo "  running kernel: $(tr ' ' '\n' </proc/cmdline | grep -E '^(isolcpus|nohz_full|rcu_nocbs|irqaffinity)=' | tr '\n' ' ')"
fi

# ---- NICs --------------------------------------------------------------------------------

if [ -n "$BIND" ]; then
	[ "$DRIVER" = vfio-pci ] && [ ! -d "$SYS/bus/pci/drivers/vfio-pci" ] && act modprobe vfio-pci
	for pci in $BIND; do
		cur=$(basename "$(readlink "$SYS/bus/pci/devices/$pci/driver" 2>/dev/null)" 2>/dev/null)
		if [ "$cur" = "$DRIVER" ]; then
			echo "host-prep: $pci: bound to $DRIVER already"
			continue
		fi
		act "${DEVBIND:-dpdk-devbind.py}" -b "$DRIVER" "$pci"
	done
fi

if [ $FAILED = 1 ]; then
	echo "host-prep: dry run: the checks above failed; a real run would change nothing" >&2
	exit 1
fi
exit 0
