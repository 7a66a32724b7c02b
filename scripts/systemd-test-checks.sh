#!/bin/bash
# Runs INSIDE the container booted by scripts/systemd-test (as root, PID 1 is systemd).
# /sessionhost-test holds bin/, systemd/ and this script. Prints PASS/FAIL lines and exits
# with the number of failures (capped at 100).
set -u
T=/sessionhost-test
SOCK=/run/sessionhost/agent.sock
GAME=example-game-server.service
AGENT=sessionhostd.service
failures=0 passes=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
info() { echo "      $*"; }
prop() { systemctl show -p "$2" --value "$1"; }
now() { date +%s.%N; }

# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds or the deadline.
wait_for() {
  local deadline; deadline=$(( $(date +%s) + $1 )); shift
  while :; do
    "$@" && return 0
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}
# acurl ARGS...: curl to the agent socket as root; the body on stdout.
acurl() { curl -sS --max-time 15 --unix-socket "$SOCK" "$@"; }
json_string() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" | head -n1; }
host_state() { acurl http://localhost/v1/host 2>/dev/null | tr -d '\n' | json_string state; }
state_is() { [ "$(host_state)" = "$1" ]; }
status_has() { prop $AGENT StatusText | grep -q -- "$1"; }
journal_has() { journalctl -q --no-pager -u "$1" | grep -q -- "$2"; }
journal_count() { journalctl -q --no-pager -u "$1" | grep -c -- "$2"; }
dump_on_failure() {
  [ "$failures" = 0 ] && return
  journalctl --no-pager -o short-monotonic -u sessionhostd.socket -u $AGENT -u $GAME > $T/journal.txt 2>&1
  echo "---- last journal lines (full: journal.txt in the scratch folder) ----"
  tail -n 60 $T/journal.txt
}
trap dump_on_failure EXIT

echo "== SessionHost systemd checks ($(systemctl --version | head -n1))"

# ---------------------------------------------------------------- install
install -m 0755 $T/bin/sessionhostd $T/bin/sessionhostctl /usr/bin/
install -d -m 0755 /usr/lib/sessionhost /usr/lib/sysusers.d /etc/sessionhost
install -m 0755 $T/systemd/example-game-server.sh /usr/lib/sessionhost/
install -m 0644 $T/systemd/sessionhostd.service $T/systemd/sessionhostd.socket \
  $T/systemd/example-game-server.service /etc/systemd/system/
install -m 0644 $T/systemd/sessionhost.sysusers /usr/lib/sysusers.d/sessionhost.conf
install -m 0644 $T/systemd/sessionhostd.json /etc/sessionhost/sessionhostd.json
check "systemd-sysusers creates user and group sessionhost" \
  bash -c 'systemd-sysusers && getent passwd sessionhost >/dev/null && getent group sessionhost >/dev/null'
info "$(getent passwd sessionhost)"
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
  /etc/systemd/system/$AGENT /etc/systemd/system/$GAME 2>&1)
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

echo "== $passes passed, $failures failed"
[ "$failures" -gt 100 ] && failures=100
exit "$failures"
