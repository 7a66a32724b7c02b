#!/bin/bash
# Runs INSIDE the container booted by scripts/systemd-test (as root, PID 1 is systemd).
# /sessionhost-test holds bin/ (sessionhostd, sessionhostctl, gsmsd), systemd/ and this script.
# Prints PASS/FAIL lines and exits with the number of failures (capped at 100).
set -u
T=/sessionhost-test
SOCK=/run/sessionhost/agent.sock
GAME=example-game-server.service
AGENT=sessionhostd.service
GSMS=gsmsd.service
GSMS_URL=http://127.0.0.1:8080
# shellcheck source=lib/container-checks.sh
. $T/checks-lib.sh
now() { date +%s.%N; }
status_has() { prop $AGENT StatusText | grep -q -- "$1"; }
dump_on_failure() {
  [ "$failures" = 0 ] && return
  journalctl --no-pager -o short-monotonic -u sessionhostd.socket -u $AGENT -u $GAME -u $GSMS \
    -u 'sessionhost-game@*' -u 'sessionhost-probe@*' > $T/journal.txt 2>&1
  echo "---- last journal lines (full: journal.txt in the scratch folder) ----"
  tail -n 60 $T/journal.txt
}
trap dump_on_failure EXIT

echo "== SessionHost systemd checks ($(systemctl --version | head -n1))"

# ---------------------------------------------------------------- install
install -m 0755 $T/bin/sessionhostd $T/bin/sessionhostctl $T/bin/gsmsd /usr/bin/
install -d -m 0755 /usr/lib/sessionhost /usr/lib/sysusers.d /etc/sessionhost /etc/gsms
install -m 0755 $T/systemd/example-game-server.sh /usr/lib/sessionhost/
install -m 0644 $T/systemd/sessionhostd.service $T/systemd/sessionhostd.socket \
  $T/systemd/example-game-server.service $T/systemd/sessionhost-game@.service $T/systemd/gsmsd.service \
  /etc/systemd/system/
install -m 0644 $T/systemd/sessionhost.sysusers /usr/lib/sysusers.d/sessionhost.conf
install -m 0644 $T/systemd/gsms.sysusers /usr/lib/sysusers.d/gsms.conf
install -m 0644 $T/systemd/sessionhostd.json /etc/sessionhost/sessionhostd.json
install -m 0644 $T/systemd/gsmsd.json /etc/gsms/gsmsd.json
check "systemd-sysusers creates user and group sessionhost" \
  bash -c 'systemd-sysusers && getent passwd sessionhost >/dev/null && getent group sessionhost >/dev/null'
info "$(getent passwd sessionhost)"
check "... and user and group gsms" bash -c 'getent passwd gsms >/dev/null && getent group gsms >/dev/null'
info "$(getent passwd gsms)"
# gsmsd's two secrets, as docs/operations.md says: root:gsms 0640.
(umask 0027
 head -c 32 /dev/urandom | base64 > /etc/gsms/token.key
 head -c 32 /dev/urandom | base64 > /etc/gsms/agent.token)
chown root:gsms /etc/gsms/token.key /etc/gsms/agent.token
chmod 0640 /etc/gsms/token.key /etc/gsms/agent.token
# The test shortens the watchdog so that (f) is quick; it is active during all checks, so
# they also prove that the agent's WATCHDOG=1 keep-alives arrive in time.
mkdir -p /etc/systemd/system/$AGENT.d /etc/systemd/system/$GAME.d
cat > /etc/systemd/system/$AGENT.d/50-test.conf <<'CONF'
[Service]
WatchdogSec=3s
TimeoutAbortSec=3s
LimitCORE=0
CONF
# A short match for the end-and-ready-again cycle; (f) makes it long.
cat > /etc/systemd/system/$GAME.d/50-test.conf <<'CONF'
[Service]
Environment=SESSION_SECONDS=3 HEARTBEAT_INTERVAL=2
CONF
systemctl daemon-reload
verify_out=$(systemd-analyze verify --man=no /etc/systemd/system/sessionhostd.socket \
  /etc/systemd/system/$AGENT /etc/systemd/system/$GAME /etc/systemd/system/sessionhost-game@.service \
  /etc/systemd/system/$GSMS 2>&1)
check "systemd-analyze verify accepts the units" test -z "$verify_out"
[ -n "$verify_out" ] && info "$verify_out"

# ---------------------------------------------------------------- (b) socket activation
echo "== (b) socket activation"
systemctl start sessionhostd.socket
check "sessionhostd.socket is listening" test "$(prop sessionhostd.socket ActiveState)" = active
check "socket file is srw-rw---- sessionhost:sessionhost in a 0755 directory" \
  test "$(stat -c '%A %U:%G' $SOCK 2>/dev/null) $(stat -c %a /run/sessionhost)" = \
       "srw-rw---- sessionhost:sessionhost 755"
check "sessionhostd.service is not running before the first connection" \
  test "$(prop $AGENT ActiveState)" = inactive
host_json=$(acurl http://localhost/v1/host 2>&1)
check "a connection starts the agent and GET /v1/host answers" \
  bash -c 'printf "%s" "$1" | grep -q "\"titleId\"[[:space:]]*:[[:space:]]*\"1234ABCD\""' _ "$host_json"
info "GET /v1/host: $(printf '%s' "$host_json" | tr -d '\n' | cut -c1-300)"
check "sessionhostd.service is active after the connection" \
  wait_for 10 test "$(prop $AGENT ActiveState)" = active

# ---------------------------------------------------------------- (a) Type=notify
echo "== (a) Type=notify readiness and STATUS="
systemctl stop $AGENT
t0=$(now)
systemctl start $AGENT; rc=$?
t1=$(now)
state="$(prop $AGENT ActiveState)/$(prop $AGENT SubState)"
check "systemctl start $AGENT succeeds (rc=$rc, $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')s)" test "$rc" = 0
check "Type=notify, NotifyAccess=main" \
  test "$(prop $AGENT Type)/$(prop $AGENT NotifyAccess)" = notify/main
check "active/running as soon as systemctl start returns (was $state)" test "$state" = active/running
status_text=$(prop $AGENT StatusText)
info "StatusText=$status_text"
check "STATUS= text is set (Initializing or StandingBy)" \
  bash -c 'printf "%s" "$1" | grep -Eq "Initializing|StandingBy"' _ "$status_text"
check "systemctl status shows the STATUS= text" \
  bash -c 'systemctl status --no-pager $1 | grep -E "^ +Status: " | grep -Fq -- "$2"' _ $AGENT "$status_text"
check "the agent is reachable right after start (READY=1 means the socket serves)" \
  bash -c 'curl -sS --max-time 5 --unix-socket '$SOCK' -o /dev/null -w "%{http_code}" http://localhost/v1/host | grep -q 200'
# READY=1 came from the process: ExecMainStart precedes ActiveEnter, and WATCHDOG_USEC is set.
check "WatchdogUSec=3s from the test drop-in" test "$(prop $AGENT WatchdogUSec)" = 3s

# ---------------------------------------------------------------- (c) hardening
echo "== (c) hardening"
pid=$(prop $AGENT MainPID)
check "agent runs as sessionhost:sessionhost" \
  test "$(awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 } END { print u ":" g }' /proc/"$pid"/status)" = \
       "$(id -u sessionhost):$(getent group sessionhost | cut -d: -f3)"
check "no capabilities, no new privileges, seccomp filter on" \
  bash -c 'grep -q "^CapEff:[[:space:]]*0000000000000000" /proc/$1/status &&
           grep -q "^NoNewPrivs:[[:space:]]*1" /proc/$1/status &&
           grep -q "^Seccomp:[[:space:]]*2" /proc/$1/status' _ "$pid"
check "state directory /var/lib/sessionhost is 0750 sessionhost:sessionhost" \
  test "$(stat -c '%a %U:%G' /var/lib/sessionhost)" = "750 sessionhost:sessionhost"
check "agent sees STATE_DIRECTORY=/var/lib/sessionhost" \
  bash -c 'tr "\0" "\n" < /proc/$1/environ | grep -qx STATE_DIRECTORY=/var/lib/sessionhost' _ "$pid"
check "the root file system is read-only for the agent" \
  nsenter -t "$pid" -m awk '$2 == "/" { o = $4 } END { exit !(o ~ /^ro(,|$)/) }' /proc/self/mounts

# ---------------------------------------------------------------- (d) game server via group
echo "== (d) example game server reaches the socket through group sessionhost"
check "a user outside group sessionhost cannot connect" \
  bash -c '! setpriv --reuid=nobody --regid=nogroup --clear-groups curl -s --max-time 5 --unix-socket '$SOCK' -o /dev/null http://localhost/v1/host'
systemctl start $GAME
check "$GAME is active" wait_for 10 test "$(prop $GAME ActiveState)" = active
check "the game called ready: the host becomes StandingBy" wait_for 30 state_is StandingBy
check "STATUS= says StandingBy" wait_for 10 status_has StandingBy
info "StatusText=$(prop $AGENT StatusText)"
check "the game logs ready in the journal" wait_for 10 journal_has $GAME "ready: the host is StandingBy"
game_pid=$(prop $GAME MainPID)
info "game runs as $(ps -o user:20=,group:20=,supgrp:30= -p "$game_pid" | tr -s ' ')"
check "the game runs as a dynamic user with supplementary group sessionhost" \
  bash -c 'awk "/^Uid:/ { exit !(\$2 != 0) }" /proc/$1/status &&
           grep -Eq "^Groups:.*[[:space:]]$2([[:space:]]|\$)" /proc/$1/status' _ "$game_pid" "$(getent group sessionhost | cut -d: -f3)"
check "state.json written in the state directory" \
  bash -c 'test -s /var/lib/sessionhost/state.json && test "$(stat -c %U /var/lib/sessionhost/state.json)" = sessionhost'

# ---------------------------------------------------------------- (e) local allocation
echo "== (e) local allocation seen by the game"
sid1=$(cat /proc/sys/kernel/random/uuid)
out=$(sessionhostctl allocate --socket $SOCK --session-id "$sid1" --cookie hello 2>&1); rc=$?
check "sessionhostctl allocate --session-id $sid1 --cookie hello (rc=$rc)" test "$rc" = 0
info "$(printf '%s' "$out" | head -n 5)"
check "the game logs the session with its cookie" \
  wait_for 30 journal_has $GAME "session started: sessionId=$sid1 sessionCookie=hello"
check "sessionhostctl session shows it Active" \
  bash -c 'sessionhostctl session --socket '$SOCK' --json | grep -q "$1"' _ "$sid1"
host_json=$(acurl http://localhost/v1/host 2>/dev/null | tr -d '\n')
check "journalctl -u $AGENT SESSION_ID=$sid1 -o json: entries with SESSION_ID, SESSION_HOST_ID, TITLE_ID, PRIORITY" \
  wait_for 10 session_journal_fields $AGENT "$sid1" "$(printf '%s' "$host_json" | json_string sessionHostId)" \
  "$(printf '%s' "$host_json" | json_string titleId)"
info "$(session_entry_summary $AGENT "$sid1")"
check "the game ends the session after its match" wait_for 30 journal_has $GAME "session ended: sessionId=$sid1"
check "... and calls ready again: StandingBy" wait_for 30 state_is StandingBy

# ---------------------------------------------------------------- (f) watchdog
echo "== (f) a hung agent is restarted by the watchdog, session intact"
check "no watchdog restart so far (NRestarts=0): WATCHDOG=1 arrives in time" \
  test "$(prop $AGENT NRestarts)" = 0
printf '[Service]\nEnvironment=SESSION_SECONDS=600 HEARTBEAT_INTERVAL=2\n' > /etc/systemd/system/$GAME.d/60-long.conf
systemctl daemon-reload
n_ready=$(journal_count $GAME "ready: the host is StandingBy")
systemctl restart $GAME
wait_for 30 bash -c '[ "$(journalctl -q --no-pager -u '$GAME' | grep -c "ready: the host is StandingBy")" -gt '"$n_ready"' ]'
wait_for 30 state_is StandingBy
sid2=$(cat /proc/sys/kernel/random/uuid)
sessionhostctl allocate --socket $SOCK --session-id "$sid2" --cookie watchdog-cookie >/dev/null 2>&1
check "second session $sid2 allocated and seen by the game" \
  wait_for 30 journal_has $GAME "session started: sessionId=$sid2"
old_pid=$(prop $AGENT MainPID); old_restarts=$(prop $AGENT NRestarts)
kill -STOP "$old_pid"
t0=$(date +%s)
restarted() {
  local p; p=$(prop $AGENT MainPID)
  [ "$(prop $AGENT NRestarts)" -gt "$old_restarts" ] && [ "$p" != 0 ] && [ "$p" != "$old_pid" ] &&
    [ "$(prop $AGENT ActiveState)" = active ]
}
check "SIGSTOPped agent (pid $old_pid) restarted by systemd" wait_for 45 restarted
info "restarted after $(( $(date +%s) - t0 ))s: MainPID $old_pid -> $(prop $AGENT MainPID), NRestarts $(prop $AGENT NRestarts)"
check "the journal names the watchdog" journal_has $AGENT "Watchdog timeout"
session_json=$(acurl "http://localhost/v1/session" 2>&1 | tr -d '\n')
info "GET /v1/session: $session_json"
check "GET /v1/session still has the session id" \
  test "$(printf '%s' "$session_json" | json_string sessionId)" = "$sid2"
check "... its cookie" test "$(printf '%s' "$session_json" | json_string sessionCookie)" = watchdog-cookie
check "... and state Active" test "$(printf '%s' "$session_json" | json_string state)" = Active
check "STATUS= names the Active session" wait_for 10 status_has "$sid2"
info "StatusText=$(prop $AGENT StatusText)"

# ---------------------------------------------------------------- (g) clean stop
echo "== (g) clean stop, socket survives agent restarts"
systemctl restart $AGENT
check "after systemctl restart the socket file is still there" test -S $SOCK
check "... and the agent answers" \
  bash -c 'curl -sS --max-time 10 --unix-socket '$SOCK' -o /dev/null -w "%{http_code}" http://localhost/v1/host | grep -q 200'
systemctl stop $GAME
t0=$(date +%s)
systemctl stop $AGENT
check "systemctl stop $AGENT is quick ($(( $(date +%s) - t0 ))s)" test $(( $(date +%s) - t0 )) -lt 10
check "Result=success after stop (got $(prop $AGENT Result))" test "$(prop $AGENT Result)" = success
check "main process exited with status 0 (ExecMainStatus=$(prop $AGENT ExecMainStatus))" \
  test "$(prop $AGENT ExecMainStatus)" = 0
check "socket file kept while the agent is stopped (RuntimeDirectoryPreserve=yes)" test -S $SOCK
check "a new connection socket-activates the agent again" \
  bash -c 'curl -sS --max-time 15 --unix-socket '$SOCK' -o /dev/null -w "%{http_code}" http://localhost/v1/host | grep -q 200'
systemctl stop $AGENT sessionhostd.socket
check "stopping sessionhostd.socket removes the socket file" test ! -e $SOCK

# ---------------------------------------------------------------- (g2) GSDK front end
echo "== (g2) GSDK game servers: loopback listener and config file under the hardened unit"
cat > /etc/systemd/system/$AGENT.d/60-gsdk.conf <<'CONF'
[Service]
ExecStart=
ExecStart=/usr/bin/sessionhostd --config /etc/sessionhost/sessionhostd.json --gsdk-listen 127.0.0.1:56001
CONF
systemctl daemon-reload
systemctl start sessionhostd.socket $AGENT; rc=$?
check "the agent starts with --gsdk-listen 127.0.0.1:56001 (rc=$rc)" test "$rc" = 0
GSDK_CONF=/run/sessionhost/gsdkConfig.json
check "READY=1 came after $GSDK_CONF was written: 0644 sessionhost" \
  test "$(stat -c '%a %U' $GSDK_CONF 2>&1)" = "644 sessionhost"
check "... naming the endpoint 127.0.0.1:56001" \
  test "$(tr -d '\n' < $GSDK_CONF | json_string heartbeatEndpoint)" = 127.0.0.1:56001
gsdk_id=$(tr -d '\n' < $GSDK_CONF | json_string sessionHostId)
info "GSDK config: $(tr -d '\n ' < $GSDK_CONF | cut -c1-300)"
# A GSDK heartbeat as the C++ SDK sends it, from an unprivileged user (the port is loopback only).
gsdk_heartbeat() {
  setpriv --reuid=nobody --regid=nogroup --clear-groups curl -sS --max-time 5 -X PATCH \
    -H 'Accept: application/json' -H 'Content-Type: application/json; charset=utf-8' \
    -d "{\"CurrentGameHealth\":\"Healthy\",\"CurrentGameState\":\"$1\",\"CurrentPlayers\":null}" \
    "http://127.0.0.1:56001/v1/sessionHosts/$gsdk_id"
}
acurl -X POST http://localhost/v1/session/end >/dev/null 2>&1  # whatever the example game left
out=$(gsdk_heartbeat StandingBy 2>&1)
info "PATCH StandingBy: $out"
check "a GSDK StandingBy heartbeat answers operation Continue" \
  bash -c 'printf "%s" "$1" | grep -q "\"operation\":\"Continue\""' _ "$out"
check "... and the host is StandingBy" wait_for 10 state_is StandingBy
sid3=5e0a51c2-6a57-4c1f-9d3e-0b3c4a5d6e7f
sessionhostctl allocate --socket $SOCK --session-id "$sid3" --cookie gsdk-cookie >/dev/null 2>&1
out=$(gsdk_heartbeat StandingBy 2>&1)
info "PATCH StandingBy after the hand-off: $out"
check "the next StandingBy heartbeat is operation Active with the session and cookie" \
  bash -c 'printf "%s" "$1" | grep -q "\"operation\":\"Active\"" &&
           printf "%s" "$1" | grep -q "\"sessionId\":\"$2\"" &&
           printf "%s" "$1" | grep -q "\"sessionCookie\":\"gsdk-cookie\""' _ "$out" "$sid3"
gsdk_heartbeat Active >/dev/null 2>&1
gsdk_heartbeat Terminating >/dev/null 2>&1
check "a Terminating heartbeat ends the session: the host is Terminating" wait_for 10 state_is Terminating
systemctl stop $AGENT sessionhostd.socket
rm -f /etc/systemd/system/$AGENT.d/60-gsdk.conf
systemctl daemon-reload

# ---------------------------------------------------------------- (h) gsmsd
echo "== (h) gsmsd.service: readiness, REST API, database, restart, stop"
# gcurl OUT-PREFIX ARGS...: curl to gsmsd; the body in OUT-PREFIX.body, the headers in
# OUT-PREFIX.headers, the status code on stdout (000 when nothing answers).
gcurl() {
  local out=$1; shift
  curl -sS --max-time 15 -o "$out.body" -D "$out.headers" -w '%{http_code}' "$@" 2>"$out.err" || true
}
header_of() { grep -i "^$2:" "$1.headers" | head -n1 | cut -d: -f2- | tr -d '\r' | sed 's/^ *//'; }
gsms_state_is() { [ "$(prop $GSMS ActiveState)/$(prop $GSMS SubState)" = "$1" ]; }
G=/tmp/gsms; mkdir -p $G

# Readiness. A drop-in makes gsmsd start 3 s late (sh sleeps, then execs gsmsd in the same
# process): the unit must stay activating until gsmsd itself sends READY=1, unlike Type=simple.
mkdir -p /etc/systemd/system/$GSMS.d
printf '%s\n' '[Service]' 'ExecStart=' \
  "ExecStart=/bin/sh -c 'sleep 3; exec /usr/bin/gsmsd --config /etc/gsms/gsmsd.json'" \
  > /etc/systemd/system/$GSMS.d/50-late.conf
systemctl daemon-reload
systemctl start --no-block $GSMS
sleep 1.5
state="$(prop $GSMS ActiveState)/$(prop $GSMS SubState)"
check "before gsmsd runs the unit is activating/start (was $state)" test "$state" = activating/start
check "... with no STATUS= yet, and nothing answers on 8080" \
  bash -c '[ -z "$(systemctl show -p StatusText --value '$GSMS')" ] &&
           [ "$(curl -s --max-time 2 -o /dev/null -w "%{http_code}" '$GSMS_URL'/)" = 000 ]'
check "once gsmsd sends READY=1 the unit is active/running" wait_for 15 gsms_state_is active/running
check "... with STATUS= Listening on 0.0.0.0:8080" test "$(prop $GSMS StatusText)" = "Listening on 0.0.0.0:8080"
systemctl stop $GSMS
rm -f /etc/systemd/system/$GSMS.d/50-late.conf

# A gsmsd that cannot listen (the port is taken) never becomes active, and systemctl start says so.
printf '[Service]\nRestart=no\n' > /etc/systemd/system/$GSMS.d/50-norestart.conf
systemctl daemon-reload
python3 -c 'import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 8080)); s.listen(); open("/tmp/gsms/blocker.ready", "w").close(); time.sleep(60)' &
blocker=$!
wait_for 5 test -e $G/blocker.ready
systemctl start $GSMS 2>/dev/null; rc=$?
check "with port 8080 taken systemctl start $GSMS fails (rc=$rc), the unit is failed ($(prop $GSMS ActiveState))" \
  bash -c '[ "$1" != 0 ] && [ "$(systemctl show -p ActiveState --value '$GSMS')" = failed ]' _ "$rc"
check "... and the journal says why" journal_has $GSMS "cannot listen on 0.0.0.0:8080: address already in use"
kill $blocker; wait $blocker 2>/dev/null
rm -f /etc/systemd/system/$GSMS.d/50-norestart.conf
systemctl daemon-reload
systemctl reset-failed $GSMS

t0=$(now)
systemctl start $GSMS; rc=$?
t1=$(now)
state="$(prop $GSMS ActiveState)/$(prop $GSMS SubState)"
check "systemctl start $GSMS succeeds (rc=$rc, $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')s)" test "$rc" = 0
check "Type=notify, NotifyAccess=main" test "$(prop $GSMS Type)/$(prop $GSMS NotifyAccess)" = notify/main
check "active/running as soon as systemctl start returns (was $state)" test "$state" = active/running
code=$(gcurl $G/first "$GSMS_URL/titles/1234ABCD/sessionhosts" -X POST -d '{}')
check "gsmsd answers HTTP right after start, without a retry (got $code)" test "$code" != 000
gsms_status=$(prop $GSMS StatusText)
info "StatusText=$gsms_status"
check "STATUS= is 'Listening on 0.0.0.0:8080'" test "$gsms_status" = "Listening on 0.0.0.0:8080"
check "systemctl status shows it" \
  bash -c 'systemctl status --no-pager '$GSMS' | grep -E "^ +Status: " | grep -Fq "Listening on 0.0.0.0:8080"'

gpid=$(prop $GSMS MainPID)
check "gsmsd runs as gsms:gsms" \
  test "$(awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 } END { print u ":" g }' /proc/"$gpid"/status)" = \
       "$(id -u gsms):$(getent group gsms | cut -d: -f3)"
check "no capabilities, no new privileges, seccomp filter on" \
  bash -c 'grep -q "^CapEff:[[:space:]]*0000000000000000" /proc/$1/status &&
           grep -q "^NoNewPrivs:[[:space:]]*1" /proc/$1/status &&
           grep -q "^Seccomp:[[:space:]]*2" /proc/$1/status' _ "$gpid"
check "gsmsd runs in its own user namespace (PrivateUsers=yes)" \
  test "$(readlink /proc/"$gpid"/ns/user)" != "$(readlink /proc/self/ns/user)"
check "the root file system is read-only for gsmsd" \
  nsenter -t "$gpid" -m awk '$2 == "/" { o = $4 } END { exit !(o ~ /^ro(,|$)/) }' /proc/self/mounts
check "gsmsd sees STATE_DIRECTORY=/var/lib/gsms" \
  bash -c 'tr "\0" "\n" < /proc/$1/environ | grep -qx STATE_DIRECTORY=/var/lib/gsms' _ "$gpid"
check "state directory /var/lib/gsms is 0750 gsms:gsms" \
  test "$(stat -c '%a %U:%G' /var/lib/gsms)" = "750 gsms:gsms"

code=$(gcurl $G/noauth "$GSMS_URL/titles/1234ABCD/sessionhosts" -X POST \
  -H 'Content-Type: application/json' -d "{\"sessionId\": \"$(cat /proc/sys/kernel/random/uuid)\"}")
check "POST sessionhosts without a token: 401 (got $code)" test "$code" = 401
check "... MissingAuthorization with WWW-Authenticate: XBL3.0" \
  bash -c 'grep -q "\"MissingAuthorization\"" '$G'/noauth.body && grep -qi "^WWW-Authenticate: XBL3.0" '$G'/noauth.headers'
token=$(sessionhostctl token --key-file /etc/gsms/token.key --title 1234ABCD 2>$G/token.err); rc=$?
check "sessionhostctl token mints a title token from /etc/gsms/token.key (rc=$rc)" \
  bash -c '[ "$1" = 0 ] && [ -n "$2" ]' _ "$rc" "$token"
code=$(gcurl $G/nohost "$GSMS_URL/titles/1234ABCD/sessionhosts" -X POST -H "Authorization: XBL3.0 x=-;$token" \
  -H 'Content-Type: application/json' -d "{\"sessionId\": \"$(cat /proc/sys/kernel/random/uuid)\"}")
info "POST sessionhosts with the token: $code $(cat $G/nohost.body)"
check "POST sessionhosts with the token and no host: 503 (got $code)" test "$code" = 503
check "... NoStandingByHost" grep -q '"NoStandingByHost"' $G/nohost.body
check "... with Retry-After (got '$(header_of $G/nohost Retry-After)')" test -n "$(header_of $G/nohost Retry-After)"

host_id=sessionhost-test-host
registration='{"titleId": "1234ABCD", "region": "WestUS", "hostName": "host-1.example.net",
  "portMappings": [{"Key": "game", "Value": {"internal": 7777, "external": 30000}}],
  "secureContext": "", "state": "StandingBy", "health": "Healthy"}'
code=$(gcurl $G/badsecret "$GSMS_URL/agent/v1/hosts/$host_id" -X PUT -H "Authorization: Bearer not-the-fleet-secret" \
  -H 'Content-Type: application/json' -d "$registration")
check "agent registration with a wrong fleet secret: 401 (got $code)" test "$code" = 401
secret=$(cat /etc/gsms/agent.token)
host_key=systemd-test-host-key-0123456789abcdef-0123456789
code=$(gcurl $G/register "$GSMS_URL/agent/v1/hosts/$host_id" -X PUT -H "Authorization: Bearer $secret" \
  -H "SessionHost-Key: $host_key" -H 'Content-Type: application/json' -d "$registration")
info "PUT /agent/v1/hosts/$host_id: $code $(cat $G/register.body)"
check "agent registration with the fleet secret: 200 (got $code)" test "$code" = 200
check "... the host is StandingBy" test "$(tr -d '\n' < $G/register.body | json_string state)" = StandingBy
code=$(gcurl $G/otherkey "$GSMS_URL/agent/v1/hosts/$host_id" -H "Authorization: Bearer $secret" \
  -H "SessionHost-Key: another-agents-host-key-0123456789abcdef-01234")
check "the same host id with another agent's host key: 403 (got $code)" test "$code" = 403
check "... HostKeyMismatch" grep -q '"HostKeyMismatch"' $G/otherkey.body

check "the database /var/lib/gsms/gsms.sqlite exists, 0600 gsms:gsms" \
  test "$(stat -c '%a %U:%G' /var/lib/gsms/gsms.sqlite 2>&1)" = "600 gsms:gsms"
check "... in WAL mode: gsms.sqlite-wal and -shm are written next to it" \
  test -f /var/lib/gsms/gsms.sqlite-wal -a -f /var/lib/gsms/gsms.sqlite-shm
info "$(ls -l /var/lib/gsms | tail -n +2 | tr -s ' ' | tr '\n' ';')"
# An online backup with SQLite's backup API, which `sqlite3 DB ".backup FILE"` (docs) uses.
backup_py='
import sqlite3, sys
src = sqlite3.connect("/var/lib/gsms/gsms.sqlite")
dst = sqlite3.connect("/tmp/gsms-backup.sqlite")
src.backup(dst)
src.close()
rows = dst.execute("SELECT state FROM hosts WHERE host_id = ?", (sys.argv[1],)).fetchall()
ok = dst.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
sys.exit(0 if ok and rows == [("StandingBy",)] else 1)
'
check "an online backup of the running database holds the host" python3 -c "$backup_py" "$host_id"
check "... and leaves the database files owned by gsms" \
  test "$(stat -c %U /var/lib/gsms/gsms.sqlite* | sort -u)" = gsms

old_gpid=$gpid
systemctl restart $GSMS; rc=$?
check "systemctl restart $GSMS (rc=$rc) gives a new, active process" \
  bash -c '[ "$1" = 0 ] && [ "$(systemctl show -p ActiveState --value '$GSMS')" = active ] &&
           [ "$(systemctl show -p MainPID --value '$GSMS')" != "$2" ]' _ "$rc" "$old_gpid"
code=$(gcurl $G/after "$GSMS_URL/agent/v1/hosts/$host_id" -H "Authorization: Bearer $secret" -H "SessionHost-Key: $host_key")
info "GET /agent/v1/hosts/$host_id after the restart: $code $(cat $G/after.body)"
check "after the restart GET /agent/v1/hosts/$host_id: 200 (got $code)" test "$code" = 200
check "... the same host and title" \
  test "$(tr -d '\n' < $G/after.body | json_string sessionHostId)/$(tr -d '\n' < $G/after.body | json_string titleId)" = "$host_id/1234ABCD"

t0=$(date +%s)
systemctl stop $GSMS
check "systemctl stop $GSMS is quick ($(( $(date +%s) - t0 ))s)" test $(( $(date +%s) - t0 )) -lt 10
check "Result=success after stop (got $(prop $GSMS Result))" test "$(prop $GSMS Result)" = success
check "main process exited with status 0 (ExecMainStatus=$(prop $GSMS ExecMainStatus))" \
  test "$(prop $GSMS ExecMainStatus)" = 0
check "the journal has 'gsmsd stopped'" journal_has $GSMS "gsmsd stopped"
check "the database was closed cleanly: its WAL is checkpointed and removed" test ! -e /var/lib/gsms/gsms.sqlite-wal
check "the database stays in /var/lib/gsms after the stop" test -s /var/lib/gsms/gsms.sqlite

# ---------------------------------------------------------------- (i) slots
echo "== (i) several game servers per VM: the agent with --slots 3, sessionhost-game@1..3"
# The single-slot agent and its example game are stopped ((g), (g2)); the agent grows to 3 slots
# in local mode, with the state of (g2) as slot 1's.
systemctl stop $GAME $AGENT sessionhostd.socket
cat > /etc/systemd/system/$AGENT.d/70-slots.conf <<'CONF'
[Service]
ExecStart=
ExecStart=/usr/bin/sessionhostd --config /etc/sessionhost/sessionhostd.json --slots 3
CONF
# Long matches: the sessions below stay Active while the checks look at them.
mkdir -p /etc/systemd/system/sessionhost-game@.service.d
printf '[Service]\nEnvironment=SESSION_SECONDS=600 HEARTBEAT_INTERVAL=2\n' \
  > /etc/systemd/system/sessionhost-game@.service.d/50-test.conf
systemctl daemon-reload
slot_sock() { echo "/run/sessionhost/agent-$1.sock"; }
slot_host() { curl -sS --max-time 5 --unix-socket "$(slot_sock "$1")" http://localhost/v1/host 2>/dev/null | tr -d '\n'; }
slot_state_is() { [ "$(slot_host "$1" | json_string state)" = "$2" ]; }
systemctl start sessionhostd.socket $AGENT; rc=$?
check "the agent starts with --slots 3 (rc=$rc)" test "$rc" = 0
for k in 1 2 3; do
  check "slot $k has its own socket $(slot_sock $k): srw-rw---- sessionhost:sessionhost" \
    test "$(stat -c '%A %U:%G' "$(slot_sock $k)" 2>&1)" = "srw-rw---- sessionhost:sessionhost"
done
systemctl start sessionhost-game@1.service sessionhost-game@2.service sessionhost-game@3.service; rc=$?
check "systemctl start sessionhost-game@{1..3}.service (rc=$rc)" test "$rc" = 0
declare -A slot_id
for k in 1 2 3; do
  check "sessionhost-game@$k runs with SESSIONHOST_SOCKET=$SOCK (the main socket: its unit instance is its slot)" \
    bash -c 'systemctl show -p Environment --value sessionhost-game@$1.service | tr " " "\n" |
             grep -qx "SESSIONHOST_SOCKET=$2"' _ $k "$SOCK"
  check "its game called ready on the main socket: slot $k is StandingBy" wait_for 30 slot_state_is $k StandingBy
  check "... and logs it" wait_for 10 journal_has sessionhost-game@$k.service "ready: the host is StandingBy"
  slot_id[$k]=$(sessionhostctl host --socket "$(slot_sock $k)" --json 2>&1 | tr -d '\n' | json_string sessionHostId)
  info "slot $k: sessionhostctl host --socket $(slot_sock $k): ${slot_id[$k]}"
done
check "the three slots are three hosts (three distinct sessionHostId)" \
  test "$(printf '%s\n' "${slot_id[@]}" | grep -c .)/$(printf '%s\n' "${slot_id[@]}" | sort -u | grep -c .)" = 3/3
check "slot 1 keeps the single-slot agent's host id ($gsdk_id)" test -n "$gsdk_id" -a "${slot_id[1]}" = "$gsdk_id"
check "sessionhostctl host --slot 2 (agent-2.sock beside the default socket) is slot 2" \
  test -n "${slot_id[2]}" -a "$(sessionhostctl host --slot 2 --json 2>&1 | tr -d '\n' | json_string sessionHostId)" = "${slot_id[2]}"
check "STATUS= counts the slots: '3 slots: 3 StandingBy'" wait_for 10 status_has "3 slots: 3 StandingBy"
info "StatusText=$(prop $AGENT StatusText)"

# The main socket serves every slot by the caller's unit instance: a process in an instance of a
# template unit with instance 2 (a transient one: sessionhost-game@2 has a unit file) is slot 2.
out=$(systemd-run --quiet --wait --pipe --unit=sessionhost-probe@2 -p DynamicUser=yes \
  -p SupplementaryGroups=sessionhost /usr/bin/sessionhostctl host --socket $SOCK --json 2>&1)
info "sessionhostctl host --socket $SOCK in sessionhost-probe@2.service: $(printf '%s' "$out" | tr -d '\n' | cut -c1-200)"
check "a process in unit sessionhost-probe@2.service (a dynamic user) gets slot 2's host on the main socket" \
  test -n "${slot_id[2]}" -a "$(printf '%s' "$out" | tr -d '\n' | json_string sessionHostId)" = "${slot_id[2]}"
code=$(curl -sS --max-time 5 --unix-socket $SOCK -o /tmp/slotunknown.body -w '%{http_code}' http://localhost/v1/host 2>&1)
info "outside a template unit: $code $(cut -c1-300 /tmp/slotunknown.body)"
check "a caller in no template unit gets 400 SlotUnknown on the main socket (got $code)" \
  bash -c '[ "$1" = 400 ] && grep -q "\"SlotUnknown\"" /tmp/slotunknown.body' _ "$code"

# A session for slot 3 only.
sid4=$(cat /proc/sys/kernel/random/uuid)
out=$(sessionhostctl allocate --slot 3 --session-id "$sid4" --cookie slot-three 2>&1); rc=$?
check "sessionhostctl allocate --slot 3 --session-id $sid4 (rc=$rc)" test "$rc" = 0
check "sessionhost-game@3 logs the session" \
  wait_for 30 journal_has sessionhost-game@3.service "session started: sessionId=$sid4 sessionCookie=slot-three"
check "slots 1 and 2 stay StandingBy" bash -c 'for k in 1 2; do
    curl -sS --max-time 5 --unix-socket /run/sessionhost/agent-$k.sock http://localhost/v1/host |
      tr -d "\n" | grep -q "\"state\"[[:space:]]*:[[:space:]]*\"StandingBy\"" || exit 1; done'
check "STATUS= counts 1 Active and 2 StandingBy of 3 slots" \
  wait_for 10 bash -c 'systemctl show -p StatusText --value '$AGENT' | grep "^3 slots: " | grep " 1 Active" | grep -q " 2 StandingBy"' 
info "StatusText=$(prop $AGENT StatusText)"
systemctl stop sessionhost-game@1.service sessionhost-game@2.service sessionhost-game@3.service
systemctl stop $AGENT
check "the agent with 3 slots (4 sockets) stops cleanly: Result=$(prop $AGENT Result), ExecMainStatus=$(prop $AGENT ExecMainStatus)" \
  test "$(prop $AGENT Result)/$(prop $AGENT ExecMainStatus)" = success/0
systemctl stop sessionhostd.socket
rm -f /etc/systemd/system/$AGENT.d/70-slots.conf
rm -rf /etc/systemd/system/sessionhost-game@.service.d
systemctl daemon-reload

# ---------------------------------------------------------------- (j) drain
echo "== (j) drain from the VM: STATUS=, --on-drained inside the sandbox, kept across a restart"
# The single-slot agent in local mode with --on-drained leaving a mark in its runtime directory
# (the pattern docs/operations.md gives for a deletion that needs more than the agent's sandbox).
cat > /etc/systemd/system/$AGENT.d/75-drain.conf <<'CONF'
[Service]
ExecStart=
ExecStart=/usr/bin/sessionhostd --config /etc/sessionhost/sessionhostd.json --on-drained "touch /run/sessionhost/drained"
CONF
systemctl daemon-reload
rm -f /run/sessionhost/drained
systemctl start sessionhostd.socket $AGENT $GAME; rc=$?
check "the agent with --on-drained and its game start (rc=$rc)" test "$rc" = 0
check "the game called ready: StandingBy" wait_for 30 state_is StandingBy
out=$(sessionhostctl drain --deadline 600 --reason "systemd test" 2>&1); rc=$?
info "sessionhostctl drain: $(printf '%s' "$out" | head -n2 | tr '\n' ' ')"
check "sessionhostctl drain --deadline 600 (rc=$rc)" test "$rc" = 0
host_has_local_drain() {
  acurl http://localhost/v1/host 2>/dev/null | tr -d '\n' | grep -q '"source"[[:space:]]*:[[:space:]]*"local"'
}
check "GET /v1/host carries the drain (source local)" host_has_local_drain
check "STATUS= says the VM is drained (no session)" wait_for 30 status_has "Drained"
info "StatusText=$(prop $AGENT StatusText)"
check "--on-drained ran inside sessionhostd.service's sandbox: /run/sessionhost/drained exists" \
  wait_for 30 test -e /run/sessionhost/drained
check "... as the agent's user (sessionhost)" test "$(stat -c %U /run/sessionhost/drained 2>&1)" = sessionhost
check "the journal has the exit status of --on-drained" wait_for 10 journal_has $AGENT "--on-drained exited 0"
rm -f /run/sessionhost/drained
systemctl restart $AGENT; rc=$?
check "systemctl restart (a package upgrade's) keeps the drain: STATUS= Drained again (rc=$rc)" \
  wait_for 30 status_has "Drained"
check "... and --on-drained does not run a second time for the same drain" \
  wait_for 10 journal_has $AGENT "--on-drained already ran for this drain"
check "... no mark left by a second run" test ! -e /run/sessionhost/drained
out=$(sessionhostctl allocate --session-id "$(cat /proc/sys/kernel/random/uuid)" 2>&1); rc=$?
info "local allocate while draining: rc=$rc $(printf '%s' "$out" | head -n1)"
check "a drained VM takes no session: local allocate refused with Draining (rc=$rc)" \
  bash -c '[ "$1" = 1 ] && printf "%s" "$2" | grep -q Draining' _ "$rc" "$out"
systemctl stop $GAME $AGENT sessionhostd.socket
rm -f /etc/systemd/system/$AGENT.d/75-drain.conf
systemctl daemon-reload

echo "== $passes passed, $failures failed"
[ "$failures" -gt 100 ] && failures=100
exit "$failures"
