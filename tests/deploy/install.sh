#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# install.sh BUILD SRC MAN(yes|no) CC...: `meson install` into a DESTDIR
# puts every shipped file under the configured prefix (gwartd, gwartctl,
# the SDK's library, headers and pkg-config file, the systemd unit with its
# ExecStart at the installed gwartd, the man pages, the bash completion, the
# example configurations and TUNING.md, host-prep.sh, the Wireshark
# dissector when the tree has one, which tshark then loads);
# then a connector program (tests/deploy/connector_prog.c) compiles and
# links against the installed SDK with `pkg-config --cflags --libs
# gwart-connector` alone (no path into the source or build tree) and runs
# with the installed library.
set -eu
build=$1
src=$2
man=$3
shift 3
command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: no pkg-config"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/dest"
meson install -C "$build" --no-rebuild --destdir "$dest" >"$tmp/install.log" 2>&1 || {
	cat "$tmp/install.log"
	echo "FAIL: meson install"
	exit 1
}
opt() { meson introspect --buildoptions "$build" |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]][0])' "$1"; }
prefix=$(opt prefix)
bindir=$(opt bindir)
libdir=$(opt libdir)
mandir=$(opt mandir)
case $libdir in /*) ;; *) libdir="$prefix/$libdir" ;; esac
case $bindir in /*) ;; *) bindir="$prefix/$bindir" ;; esac
case $mandir in /*) ;; *) mandir="$prefix/$mandir" ;; esac
(cd "$dest" && find . ! -type d | sed 's|^\.||' | sort) >"$tmp/files"
fails=0
need() {
	grep -qx -- "$1" "$tmp/files" || { echo "FAIL: not installed: $1"; fails=$((fails + 1)); }
}
need "$bindir/gwartd"
need "$bindir/gwartctl"
need "$libdir/libgwart-connector.so"
need "$libdir/pkgconfig/gwart-connector.pc"
for h in connector.h wire.h auth.h ctl.h; do need "$prefix/include/gwart/$h"; done
unit=$(grep '/systemd/system/gwartd.service$' "$tmp/files" || true)
if [ -z "$unit" ]; then
	echo "FAIL: no systemd unit gwartd.service installed"
	fails=$((fails + 1))
else
	case $unit in "$prefix"/*) ;; *) echo "FAIL: unit $unit outside the prefix $prefix"; fails=$((fails + 1)) ;; esac
	grep -q "^ExecStart=$bindir/gwartd " "$dest$unit" ||
		{ grep ExecStart "$dest$unit"; echo "FAIL: ExecStart is not $bindir/gwartd"; fails=$((fails + 1)); }
fi
comp=$(grep '/bash-completion/completions/gwartctl$' "$tmp/files" || true)
[ -n "$comp" ] && case $comp in "$prefix"/*) false ;; esac &&
	{ echo "FAIL: completion $comp outside the prefix"; fails=$((fails + 1)); }
[ -n "$comp" ] || { echo "FAIL: no bash completion for gwartctl installed"; fails=$((fails + 1)); }
if [ "$man" = yes ]; then
	need "$mandir/man8/gwartd.8"
	need "$mandir/man8/gwartctl.8"
else
	echo "note: scdoc was not found at configure time: man pages not checked"
fi
need "$prefix/share/doc/gwart/gwartd.example.json"
need "$prefix/share/doc/gwart/examples/prod-16core.json"
[ -x "$dest$prefix/share/gwart/host-prep.sh" ] || { echo "FAIL: host-prep.sh not installed executable"; fails=$((fails + 1)); }
if [ -f "$src/deploy/wireshark/gwart.lua" ]; then
	lua=$(grep '/wireshark/plugins/gwart\.lua$' "$tmp/files" || true)
	if [ -z "$lua" ]; then
		echo "FAIL: deploy/wireshark/gwart.lua not installed"
		fails=$((fails + 1))
	elif command -v tshark >/dev/null 2>&1; then
		# The installed file is a dissector Wireshark loads.
		tshark -G protocols -X "lua_script:$dest$lua" 2>/dev/null | grep -q "	gwart$" ||
			{ echo "FAIL: tshark does not load the installed $lua"; fails=$((fails + 1)); }
	else
		echo "note: no tshark: the installed dissector is not loaded"
	fi
fi
# Nothing outside the prefix.
if grep -v "^$prefix/" "$tmp/files" >"$tmp/outside"; then
	cat "$tmp/outside"
	echo "FAIL: files installed outside $prefix"
	fails=$((fails + 1))
fi
"$dest$bindir/gwartctl" --help >/dev/null || { echo "FAIL: installed gwartctl --help"; fails=$((fails + 1)); }
[ $fails -eq 0 ] || { echo "installed:"; cat "$tmp/files"; exit 1; }

# The SDK as an outside program sees it: the flags from pkg-config only,
# the installed tree through the sysroot, no -I into the source.
mkdir "$tmp/prog"
cp "$src/tests/deploy/connector_prog.c" "$tmp/prog/conn.c"
export PKG_CONFIG_PATH="$dest$libdir/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs gwart-connector) || { echo "FAIL: pkg-config gwart-connector"; exit 1; }
echo "pkg-config: $flags"
case " $flags " in *" -I$dest$prefix/include "*) ;; *) echo "FAIL: no -I into the DESTDIR"; exit 1 ;; esac
case "$flags" in *"$src"* | *"$build"*) echo "FAIL: flags reach into the tree"; exit 1 ;; esac
# shellcheck disable=SC2086
(cd "$tmp/prog" && "$@" -std=c11 -Wall -Werror -o conn conn.c $flags) || { echo "FAIL: compile/link"; exit 1; }
out=$(LD_LIBRARY_PATH="$dest$libdir" "$tmp/prog/conn") || { echo "FAIL: the connector program"; exit 1; }
echo "$out"
echo "$out" | grep -q "^library $dest$libdir/libgwart-connector.so" ||
	{ echo "FAIL: not the installed library"; exit 1; }
echo "PASS: meson install into a DESTDIR ($(wc -l <"$tmp/files") files); a connector built with pkg-config alone runs with the installed SDK"
