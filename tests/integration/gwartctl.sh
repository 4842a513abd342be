#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Every gwartctl command against a live gwartd, with its error paths and its
# exit codes (0 ok, 2 usage/bad argument, 3 unknown object, 4 no daemon,
# 5 conflict/busy, 6 permission denied), the human tables and --json, the
# connectors' keys (add and set-key with --key and --key-file, keygen, the
# fingerprint listings show, a key never printed back, no connector without
# one, a key file others can read refused), the
# control socket's access control (file mode and SO_PEERCRED/SO_PEERGROUPS)
# and bounds (clients, request size, bad requests, fds back to baseline),
# 16 idle clients that neither lock gwartctl out nor outlive the idle
# timeout, and a drain shutdown that ends the daemon cleanly.
. "$GWART_SRC/tests/integration/lib.sh"
# Sanitizer build: an undefined-behaviour report must fail the run too.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

CTL="$GWART_BUILD/control/gwartctl"
SOCK="$TMP/run/gwartd.sock"
AGID=4242 # the allowed group: no such group needs to exist
NOBODY="setpriv --reuid=65534 --regid=65534"

# The config's "control" section names the socket and the allowed group.
cfg=$(write_config)
python3 - "$cfg" "$SOCK" "$AGID" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["control"] = {"socket": sys.argv[2], "allow_gid": int(sys.argv[3]),
                "idle_timeout_ms": 3000}
json.dump(d, open(sys.argv[1], "w"), indent=1)
EOF
chmod 0711 "$TMP" # unprivileged peers below must reach $TMP/run
start_gwartd "$cfg"
export GWART_SOCKET="$SOCK"

# expect RC ARGS...: gwartctl ARGS must exit with RC; output in $TMP/out, err.
expect() {
	want=$1
	shift
	rc=0
	"$CTL" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || {
		cat "$TMP/out" "$TMP/err" >&2
		fail "gwartctl $*: exit $rc, expected $want"
	}
	if [ "$want" -ne 0 ]; then
		[ -s "$TMP/err" ] || fail "gwartctl $*: exit $rc without a message"
		[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "gwartctl $*: message not one line"
	fi
}
has() { grep -Eq -- "$1" "$TMP/out" || { cat "$TMP/out" >&2; fail "no line /$1/"; }; }
err_has() { grep -Eq -- "$1" "$TMP/err" || { cat "$TMP/err" >&2; fail "no message /$1/"; }; }
# json EXPR: evaluate EXPR on the --json output (bound to d) and print it.
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$TMP/out"; }
sock_stat() { "$CTL" --json stats >"$TMP/st"; python3 -c \
	"import json,sys; print(json.load(open(sys.argv[1]))$1)" "$TMP/st"; }

# ---- socket file -----------------------------------------------------------------
[ -S "$SOCK" ] || fail "no socket at $SOCK"
[ "$(command stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(command stat -c %a "$SOCK") != 660"
[ "$(command stat -c %g "$SOCK")" = $AGID ] || fail "socket group $(command stat -c %g "$SOCK") != $AGID"
[ "$(command stat -c %a "$TMP/run")" = 750 ] || fail "socket dir mode $(command stat -c %a "$TMP/run")"

# ---- read-only commands, tables and JSON ------------------------------------------
expect 0 status
has '^connectors +4$'
has '^routes +3$'
has '^version +[0-9]'
expect 0 --json status
[ "$(json 'd["connectors"], d["routes"], d["socket"]["clients_open"]')" = "4 3 1" ] ||
	fail "status JSON: $(cat "$TMP/out")"
expect 0 stats
has '^routed +0$'
has '^socket$'
expect 0 --json stats
[ "$(json '"NO_ROUTE" in d["drops"], len(d["connectors"]), "refused_cred" in d["socket"]')" = \
	"True 4 True" ] || fail "stats JSON: $(head -c 300 "$TMP/out")"
expect 0 connectors
has '^ID +NAME +STATE'
has '^ *1 +mail +down '
has '^ *4 +notify +down '
expect 0 connectors 2
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "connectors 2: not one row"
expect 0 --json connectors
[ "$(json 'len(d), d[1]["name"], d[1]["enabled"], d[1]["address"]')" = "4 notes True None" ] ||
	fail "connectors JSON: $(cat "$TMP/out")"
# Keys: listed as set, with their fingerprint (gwforge computes it with
# auth.h's BLAKE2b from the key file), never the key itself.
[ "$(json 'd[1]["key"], d[1]["key_id"]')" = "set $(key_id 2)" ] ||
	fail "connector 2's key listing: $(json 'd[1]')"
expect 0 connectors 2
has " $(key_id 2)\$"
expect 0 sessions
has '^ *2 +notes +down +0 '
expect 0 --json sessions 3
[ "$(json 'd[0]["state"], d[0]["opens"], d[0]["probe_attempt"]')" = "down 0 0" ] ||
	fail "sessions JSON: $(cat "$TMP/out")"
expect 0 routes
has '^smtp +\*\.demo\.example +suffix +2:10$'
has '^smtp +backup\.example +exact +3:10 4:10$'
expect 0 routes notes
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "routes notes: not one row"
expect 0 --json routes
[ "$(json 'len(d)')" = 3 ] || fail "routes JSON: $(cat "$TMP/out")"
expect 0 get
has '^custody_limit +1024 +messages +1 +'
has '^keepalive_mult '
expect 0 get rto_us
has '^rto_us +20000 +us +100 +'
expect 3 get nope
err_has 'no tunable nope'

# ---- tunables ----------------------------------------------------------------------
expect 0 set rto_us 30000
expect 0 --json get rto_us
[ "$(json 'd["value"]')" = 30000 ] || fail "set did not take: $(cat "$TMP/out")"
expect 2 set rto_us 5
err_has 'out of range \[100, '
expect 3 set nope 1
expect 2 set rto_us abc
expect 2 set rto_us -1
expect 2 set rto_us

# ---- connectors --------------------------------------------------------------------
expect 0 connector add 10 extra --key-file "$(key_file 10)"
expect 0 --json connector add 11 extra2 --key "$(key_hex 11)"
[ "$(json 'd["id"], d["name"], d["enabled"], d["key"], d["key_id"]')" = \
	"11 extra2 True set $(key_id 11)" ] || fail "add JSON: $(cat "$TMP/out")"
expect 5 connector add 10 again --key "$(key_hex 12)"
err_has 'connector 10 exists'
expect 2 connector add 0 zero --key "$(key_hex 12)"
expect 2 connector add 70000 big --key "$(key_hex 12)"
expect 2 connector add 12
expect 2 connector add 12 nokey
expect 2 connector add 12 name-that-is-far-too-long-for-a-connector-name --key "$(key_hex 12)"
# Deny by default: no connector without a usable key.
expect 2 connector add 12 zerokey --key "$(printf '0%.0s' $(seq 64))"
expect 2 connector add 12 shortkey --key "$(key_hex 12 | cut -c1-62)"
expect 2 connector add 12 notkey --key "$(key_hex 12 | tr 0-9 g-p)"
expect 2 connector add 12 both --key "$(key_hex 12)" --key-file "$(key_file 12)"
expect 3 connector add 12 nofile --key-file "$TMP/keys/none.key"
cp "$(key_file 12)" "$TMP/keys/open.key"
chmod 0644 "$TMP/keys/open.key"
rc=0
"$CTL" connector add 12 openfile --key-file "$TMP/keys/open.key" >"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc -ne 0 ] || fail "a key file readable by others was taken"
err_has 'open.key'
expect 3 connectors 12
# A new key: the listing's fingerprint follows, the old one is gone.
expect 0 --json connector set-key 10 --key "$(key_hex 13)"
[ "$(json 'd["key"], d["key_id"]')" = "set $(key_id 13)" ] || fail "set-key: $(cat "$TMP/out")"
expect 0 connector set-key 10 --key-file "$(key_file 10)"
expect 0 --json connectors 10
[ "$(json 'd[0]["key_id"]')" = "$(key_id 10)" ] || fail "set-key --key-file: $(cat "$TMP/out")"
expect 3 connector set-key 99 --key "$(key_hex 13)"
expect 2 connector set-key 10
expect 2 connector set-key 10 --key nothex
# keygen: a fresh key each time, one a connector can be added with.
expect 0 keygen
grep -Eqx '[0-9a-f]{64}' "$TMP/out" || fail "keygen printed: $(cat "$TMP/out")"
k1=$(cat "$TMP/out")
expect 0 keygen
[ "$(cat "$TMP/out")" != "$k1" ] || fail "keygen gave the same key twice"
expect 2 keygen extra
expect 0 connector disable 10
expect 0 connectors 10
has '^ *10 +extra +disabled '
expect 0 connector enable 10
expect 0 connectors 10
has '^ *10 +extra +down '
expect 0 connector reconnect 10
expect 3 connector enable 99
err_has 'no connector 99'
expect 3 connector disable 99
expect 3 connector reconnect 99
expect 3 connector drain 99
expect 3 connector del 99
expect 3 connectors 99
expect 3 sessions 99
expect 2 connector frob 10
expect 2 connector del x

# ---- routes ------------------------------------------------------------------------
expect 0 route add smtp x.example 10:5 3
expect 0 routes smtp
has '^smtp +x\.example +exact +3:0 10:5$'
expect 0 --json route add smtp x.example 10:5 3:1
[ "$(json 'd["replaced"]')" = True ] || fail "second add did not replace"
expect 3 route add smtp y.example 99
err_has 'no connector 99'
expect 2 route add smtp y.example 1:abc
expect 2 route add smtp y.example
expect 2 route add 'BAD!' y.example 1
err_has 'bad route'
expect 5 connector del 10
err_has 'target of route smtp x.example'
expect 0 route del smtp x.example
expect 3 route del smtp x.example
err_has 'no route smtp x.example'
expect 2 route del smtp
expect 0 connector drain 10
has '^connector 10: draining, 0 message'
expect 0 connector del 10
expect 0 connector del 11
expect 3 connector del 10

# ---- usage, batch, no daemon ------------------------------------------------------
expect 2
expect 2 frobnicate
expect 2 route
expect 2 --bogus status
expect 0 --help
has 'exit status'
expect 4 --socket "$TMP/nothing-here.sock" status
err_has 'not running'
printf '# batch\nconnector add 20 b1 --key-file %s\nroute add smtp b.example 20\n\nroutes smtp\n%s\n' \
	"$(key_file 20)" 'route del smtp b.example' >"$TMP/batch"
"$CTL" batch <"$TMP/batch" >"$TMP/out" 2>"$TMP/err" || fail "batch failed: $(cat "$TMP/err")"
has '^smtp +b\.example +exact +20:0$'
rc=0
printf 'connector del 20\nconnector del 20\nstatus\n' | "$CTL" batch >"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc -eq 3 ] || fail "batch: exit $rc, expected 3 from its line 2"
err_has '^gwartctl: line 2: connector.del: no connector 20'
grep -q '^version' "$TMP/out" && fail "batch went on after a failure"

# ---- access control ----------------------------------------------------------------
fds0=$(sock_stat '["open_fds"]')
ref0=$(sock_stat '["socket"]["refused_cred"]')
# Not in the group: the directory and the socket's mode keep it out.
rc=0
$NOBODY --clear-groups "$CTL" status >"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc -eq 6 ] || fail "unprivileged peer: exit $rc, expected 6 ($(cat "$TMP/err"))"
# A member of the allowed group (supplementary, as operators are) is served.
$NOBODY --groups=$AGID "$CTL" status >"$TMP/out" 2>"$TMP/err" ||
	fail "member of group $AGID refused: $(cat "$TMP/err")"
# A file mode mistake must not open the router: SO_PEERCRED still refuses.
chmod 0755 "$TMP/run"
chmod 0666 "$SOCK"
rc=0
$NOBODY --clear-groups "$CTL" status >"$TMP/out" 2>"$TMP/err" || rc=$?
[ $rc -eq 6 ] || fail "peer with a wrong uid: exit $rc, expected 6 ($(cat "$TMP/err"))"
err_has 'permission denied'
chmod 0660 "$SOCK"
chmod 0750 "$TMP/run"
[ "$(sock_stat '["socket"]["refused_cred"]')" -eq $((ref0 + 1)) ] ||
	fail "refused_cred did not count the refused peer"

# ---- bounds: clients, request size, bad requests ---------------------------------
bad0=$(sock_stat '["socket"]["bad_requests"]')
python3 - "$SOCK" "$CTL" <<'EOF' || fail "socket bounds"
import json, socket, subprocess, sys, time
path, ctl = sys.argv[1], sys.argv[2]
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(path); return s
def call(s, line):
    s.sendall(line); f = s.makefile("rb"); r = f.readline(); f.close(); return json.loads(r)
# 16 clients served at once, each proving it was admitted. The first waits
# until gwartd has closed every earlier client (gwartctl's from the shell).
held = [conn()]
for _ in range(100):
    if call(held[0], b'{"cmd":"status"}\n')["result"]["socket"]["clients_open"] == 1:
        break
    time.sleep(0.05)
held += [conn() for _ in range(15)]
for s in held:
    assert call(s, b'{"cmd":"status","id":7}\n')["id"] == 7
p = subprocess.run([ctl, "status"], capture_output=True, text=True)
assert p.returncode == 5 and "too many" in p.stderr, (p.returncode, p.stderr)
# Not JSON, not an object, no cmd, unknown cmd: answered, connection kept.
r = call(held[0], b'not json\n'); assert r["errno"] == "EINVAL", r
r = call(held[0], b'[1,2]\n'); assert r["errno"] == "EINVAL", r
r = call(held[0], b'{"args":{}}\n'); assert r["errno"] == "EINVAL", r
r = call(held[0], b'{"cmd":"nope"}\n'); assert r["errno"] == "EOPNOTSUPP", r
r = call(held[0], b'{"cmd":"connector.add","args":{"id":"x"}}\n'); assert r["errno"] == "EINVAL", r
# Pipelined requests are answered in order.
held[1].sendall(b'{"cmd":"get","args":{"name":"burst"},"id":1}\n{"cmd":"status","id":2}\n')
f = held[1].makefile("rb")
assert [json.loads(f.readline())["id"] for _ in range(2)] == [1, 2]
f.close()
# A line longer than 64 KiB: refused, then closed.
s = held[2]
try:
    s.sendall(b"x" * 70000)
except OSError:
    pass
f = s.makefile("rb"); r = json.loads(f.readline()); assert r["errno"] == "E2BIG", r
try:
    rest = f.readline()
except ConnectionResetError: # it closed with our excess bytes unread
    rest = b""
assert rest == b"", "still open after an overlong request"
for s in held:
    s.close()
EOF
# Bad requests: not JSON, not an object, no "cmd", and the overlong line.
# (An unknown command or a bad argument is an answered error, not one.)
[ "$(sock_stat '["socket"]["bad_requests"]')" -eq $((bad0 + 4)) ] ||
	fail "bad_requests $(sock_stat '["socket"]["bad_requests"]') != $((bad0 + 4))"
[ "$(sock_stat '["socket"]["refused_full"]')" -eq 1 ] || fail "refused_full != 1"
i=0
until [ "$(sock_stat '["socket"]["clients_open"]')" -eq 1 ]; do
	i=$((i + 1))
	[ $i -gt 50 ] && fail "clients_open did not return to 1"
	sleep 0.1
done
[ "$(sock_stat '["open_fds"]')" -eq "$fds0" ] ||
	fail "open fds $(sock_stat '["open_fds"]') != baseline $fds0"

# ---- idle clients: 16 that send nothing lock nobody out, and time out --------------
idle0=$(sock_stat '["socket"]["clients_idle_closed"]')
ev0=$(sock_stat '["socket"]["clients_evicted"]')
ref0=$(sock_stat '["socket"]["refused_full"]')
python3 - "$SOCK" "$CTL" <<'EOF' || fail "idle clients"
import json, select, socket, subprocess, sys, time
path, ctl = sys.argv[1], sys.argv[2]
idle = []
for _ in range(16):
    s = socket.socket(socket.AF_UNIX); s.connect(path); idle.append(s)
time.sleep(0.3)
t0 = time.monotonic()
p = subprocess.run([ctl, "status"], capture_output=True, text=True, timeout=5)
assert p.returncode == 0, ("gwartctl status beside 16 idle clients", p.returncode, p.stderr)
assert time.monotonic() - t0 < 3, time.monotonic() - t0
# Who is told ETIMEDOUT and closed, and when: one at once (the oldest, to
# admit gwartctl), the other 15 after the 3 s idle timeout.
told = {}
open_ = set(range(16))
while open_ and time.monotonic() - t0 < 10:
    r, _, _ = select.select([idle[i] for i in open_], [], [], 0.5)
    for s in r:
        i = idle.index(s)
        data = s.recv(4096)
        if data:
            assert json.loads(data.split(b"\n")[0])["errno"] == "ETIMEDOUT", data
            told[i] = time.monotonic() - t0
        else:
            open_.discard(i)
assert not open_, ("still open after 10 s", open_)
assert len(told) == 16, told
first = min(told, key=told.get)
assert told[first] < 1.5, told
assert all(2.5 < told[i] < 6 for i in told if i != first), told
for s in idle:
    s.close()
EOF
[ "$(sock_stat '["socket"]["clients_evicted"]')" -eq $((ev0 + 1)) ] ||
	fail "clients_evicted $(sock_stat '["socket"]["clients_evicted"]') != $((ev0 + 1))"
[ "$(sock_stat '["socket"]["clients_idle_closed"]')" -eq $((idle0 + 15)) ] ||
	fail "clients_idle_closed $(sock_stat '["socket"]["clients_idle_closed"]') != $((idle0 + 15))"
[ "$(sock_stat '["socket"]["refused_full"]')" -eq "$ref0" ] || fail "an idle client refused a gwartctl"
[ "$(sock_stat '["socket"]["clients_open"]')" -eq 1 ] ||
	fail "clients_open $(sock_stat '["socket"]["clients_open"]') != 1"
[ "$(sock_stat '["open_fds"]')" -eq "$fds0" ] ||
	fail "open fds $(sock_stat '["open_fds"]') != baseline $fds0 after the idle clients"

# ---- shutdown ----------------------------------------------------------------------
expect 2 shutdown --timeout abc
expect 2 shutdown --now
# ---- keys are never printed ----------------------------------------------------------
for cmd in "connectors" "--json connectors" "sessions" "--json sessions" "--json stats" \
	"--json status"; do
	expect 0 $cmd
	cat "$TMP/out" >>"$TMP/all-out"
done
cat "$TMP/gwartd.log" >>"$TMP/all-out"
for k in "$TMP"/keys/*.key; do
	kx=$(tr -d ' \n' <"$k")
	grep -qi "$kx" "$TMP/all-out" && fail "key $(basename "$k") printed by gwartd or gwartctl"
done

expect 0 shutdown --drain --timeout 5
has '^gwartd stopped$'
rc=0
wait "$GWARTD_PID" || rc=$?
GWARTD_PID=""
[ $rc -eq 0 ] || fail "gwartd exited with $rc after shutdown"
[ -f "$TMP/stats.json" ] || fail "no stats file after shutdown"
for k in "$TMP"/keys/*.key; do
	grep -qi "$(tr -d ' \n' <"$k")" "$TMP/stats.json" "$TMP/gwartd.log" &&
		fail "key $(basename "$k") in the stats file or the log"
done
[ -e "$SOCK" ] && fail "socket file left behind"
expect 4 status
echo "PASS($T)"
