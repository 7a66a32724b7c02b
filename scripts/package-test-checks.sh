#!/bin/bash
# Runs INSIDE the container booted by scripts/package-test (as root, PID 1 is systemd, no
# network). /sessionhost-test holds debs/ (the packages in two versions), versions (the two
# version strings) and this script. Prints PASS/FAIL lines and exits with the number of failures
# (capped at 100).
set -u
T=/sessionhost-test
SOCK=/run/sessionhost/agent.sock
AGENT=sessionhostd.service
AGENT_SOCKET=sessionhostd.socket
GAME=example-game-server.service
GSMS=gsmsd.service
GSMS_URL=http://127.0.0.1:8080
TITLE=1234ABCD
V1=$(sed -n 1p $T/versions)
V2=$(sed -n 2p $T/versions)
ARCH=$(dpkg --print-architecture)
AGENT_DEB=$T/debs/sessionhostd_${V1}_$ARCH.deb
AGENT_DEB2=$T/debs/sessionhostd_${V2}_$ARCH.deb
GSMS_DEB=$T/debs/gsmsd_${V1}_$ARCH.deb
GSMS_DEB2=$T/debs/gsmsd_${V2}_$ARCH.deb
GAME_DEB=$T/debs/sessionhost-example-game-server_${V1}_all.deb
export DEBIAN_FRONTEND=noninteractive
# shellcheck source=lib/container-checks.sh
. $T/checks-lib.sh
unit_is() { [ "$(prop "$1" ActiveState)" = "$2" ]; }
enabled_is() { [ "$(systemctl is-enabled "$1" 2>/dev/null)" = "$2" ]; }
# stays_for SECONDS COMMAND...: COMMAND succeeds every 0.2 s for SECONDS (an assertion over time).
stays_for() {
  local deadline; deadline=$(( $(date +%s) + $1 )); shift
  while [ "$(date +%s)" -lt "$deadline" ]; do
    "$@" || return 1
    sleep 0.2
  done
}
pkg_status() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | tr -d ' '; }
pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }
# gsms_host: gsmsd's view of the agent's host (HostStatus JSON), with the fleet secret and the
# agent's own host key.
gsms_host() {
  curl -sS --max-time 5 -H "Authorization: Bearer $(cat /etc/gsms/agent.token)" \
    -H "SessionHost-Key: $(cat /var/lib/sessionhost/host-key 2>/dev/null)" "$GSMS_URL/agent/v1/hosts/$HOST_ID"
}
gsms_host_state_is() { [ "$(gsms_host 2>/dev/null | tr -d '\n' | json_string state)" = "$1" ]; }
dump_on_failure() {
  [ "$failures" = 0 ] && return
  journalctl --no-pager -o short-monotonic -u $AGENT_SOCKET -u $AGENT -u $GAME -u $GSMS > $T/journal.txt 2>&1
  echo "---- last journal lines (full: journal.txt in the scratch folder) ----"
  tail -n 60 $T/journal.txt
}
trap dump_on_failure EXIT

echo "== SessionHost package checks ($(systemctl --version | head -n1); $(dpkg-query -W -f='init-system-helpers ${Version}' init-system-helpers))"
info "packages: $(cd $T/debs && ls | tr '\n' ' ')"

# ---------------------------------------------------------------- gsmsd: fresh install
echo "== gsmsd $V1: fresh install, not provisioned"
out=$(apt-get install -y -q "$GSMS_DEB" 2>&1); rc=$?
check "apt-get install ./gsmsd_${V1}_$ARCH.deb (rc=$rc)" test "$rc" = 0
[ "$rc" = 0 ] || info "$(printf '%s' "$out" | tail -n 15)"
check "gsmsd is installed, its Depends satisfied in the image (status $(pkg_status gsmsd))" test "$(pkg_status gsmsd)" = ii
info "Depends: $(dpkg-query -W -f='${Depends}' gsmsd)"
check "/etc/gsms/gsmsd.json is a conffile" \
  bash -c 'dpkg-query -W -f="\${Conffiles}" gsmsd | grep -q "^ /etc/gsms/gsmsd.json "'
check "postinst created user and group gsms (systemd-sysusers)" \
  bash -c 'getent passwd gsms >/dev/null && getent group gsms >/dev/null'
check "postinst created the two secrets, root:gsms 0640, at least 32 bytes" \
  bash -c 'for f in /etc/gsms/token.key /etc/gsms/agent.token; do
             [ "$(stat -c "%U:%G %a" $f)" = "root:gsms 640" ] && [ "$(stat -c %s $f)" -ge 32 ] || exit 1
           done'
check "gsmsd.service is enabled" enabled_is $GSMS enabled
check "... but not started: its secrets were not provisioned before the install" unit_is $GSMS inactive
check "postinst said what to do next" bash -c 'printf "%s" "$1" | grep -q "enabled but not started"' _ "$out"
# The operator's configuration: a short host timeout, so that a pause in the agent's heartbeats
# during its upgrade would show as Unhealthy.
cat > /etc/gsms/gsmsd.json <<JSON
{
  "listen": "127.0.0.1:8080",
  "title": ["$TITLE"],
  "token-key-file": "/etc/gsms/token.key",
  "agent-token-file": "/etc/gsms/agent.token",
  "handoff-timeout": 5,
  "host-timeout": 5
}
JSON
systemctl start $GSMS; rc=$?
check "systemctl start gsmsd (rc=$rc): active/running" \
  test "$rc/$(prop $GSMS ActiveState)/$(prop $GSMS SubState)" = 0/active/running

# ---------------------------------------------------------------- sessionhostd: cloud-init style
echo "== sessionhostd $V1 and the example game server, configured before the install (cloud-init)"
# What cloud-init's write_files does before the packages are installed: the configuration and
# the fleet secret, root's (group sessionhost does not exist yet).
mkdir -p /etc/sessionhost
cat > /etc/sessionhost/sessionhostd.json <<JSON
{
  "control-plane": "$GSMS_URL",
  "agent-token-file": "/etc/sessionhost/agent.token",
  "title-id": "$TITLE",
  "region": "WestUS",
  "hostname": "vm-1.example.net",
  "port": ["game:udp:7777:30000"],
  "health-timeout": 10
}
JSON
install -m 0600 /etc/gsms/agent.token /etc/sessionhost/agent.token
out=$(apt-get install -y -q -o Dpkg::Options::=--force-confold "$AGENT_DEB" "$GAME_DEB" 2>&1); rc=$?
check "apt-get install --force-confold ./sessionhostd_${V1}_$ARCH.deb ./sessionhost-example-game-server_${V1}_all.deb (rc=$rc)" \
  test "$rc" = 0
[ "$rc" = 0 ] || info "$(printf '%s' "$out" | tail -n 15)"
check "both are installed (status $(pkg_status sessionhostd) $(pkg_status sessionhost-example-game-server))" \
  test "$(pkg_status sessionhostd)/$(pkg_status sessionhost-example-game-server)" = ii/ii
info "Depends: sessionhostd: $(dpkg-query -W -f='${Depends}' sessionhostd); example: $(dpkg-query -W -f='${Depends}' sessionhost-example-game-server)"
check "/etc/sessionhost/sessionhostd.json is a conffile" \
  bash -c 'dpkg-query -W -f="\${Conffiles}" sessionhostd | grep -q "^ /etc/sessionhost/sessionhostd.json "'
check "the provisioned configuration is kept (the example is beside it as .dpkg-dist)" \
  bash -c 'grep -q "\"control-plane\"" /etc/sessionhost/sessionhostd.json && test -f /etc/sessionhost/sessionhostd.json.dpkg-dist'
check "postinst created user and group sessionhost" \
  bash -c 'getent passwd sessionhost >/dev/null && getent group sessionhost >/dev/null'
check "postinst gave the fleet secret to group sessionhost (root:sessionhost 0640)" \
  test "$(stat -c '%U:%G %a' /etc/sessionhost/agent.token)" = "root:sessionhost 640"
check "sessionhostd.socket and sessionhostd.service are enabled" \
  bash -c 'enabled() { [ "$(systemctl is-enabled "$1")" = enabled ]; }; enabled sessionhostd.socket && enabled sessionhostd.service'
check "the agent was started (a control plane is configured): active/running" \
  test "$(prop $AGENT ActiveState)/$(prop $AGENT SubState)" = active/running
check "... and the socket listens" unit_is $AGENT_SOCKET active
check "the example game server is neither enabled nor started" \
  bash -c '[ "$(systemctl is-enabled '$GAME')" = disabled ] && [ "$(systemctl show -p ActiveState --value '$GAME')" = inactive ]'
check "... and ships the template unit sessionhost-game@.service (one instance per slot)" \
  test -f /usr/lib/systemd/system/sessionhost-game@.service
HOST_ID=$(acurl http://localhost/v1/host 2>/dev/null | tr -d '\n' | json_string sessionHostId)
info "host id $HOST_ID"
check "the agent registered its host with gsmsd (GET /agent/v1/hosts/{id} says Initializing)" \
  wait_for 15 gsms_host_state_is Initializing

verify_out=$(systemd-analyze verify --man=no /usr/lib/systemd/system/$AGENT_SOCKET \
  /usr/lib/systemd/system/$AGENT /usr/lib/systemd/system/$GAME /usr/lib/systemd/system/$GSMS \
  /usr/lib/systemd/system/sessionhost-game@.service 2>&1)
check "systemd-analyze verify accepts the installed units" test -z "$verify_out"
[ -n "$verify_out" ] && info "$verify_out"
echo "== systemd-analyze security --offline=true (installed units)"
for unit in $AGENT $GSMS $GAME; do
  line=$(systemd-analyze security --offline=true --no-pager /usr/lib/systemd/system/$unit 2>&1 | grep 'Overall exposure level')
  info "$unit: ${line##*: }"
  score=$(printf '%s' "$line" | sed -n 's/.*: \([0-9.]*\) .*/\1/p')
  if [ "$unit" != $GAME ]; then
    check "$unit exposure ${score:-?} is at most 2.0" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
  fi
done

# ---------------------------------------------------------------- the game waits
echo "== the example game server calls ready and waits for its session"
mkdir -p /etc/systemd/system/$GAME.d
printf '[Service]\nEnvironment=SESSION_SECONDS=600 HEARTBEAT_INTERVAL=1 WAIT_SECONDS=30\n' > /etc/systemd/system/$GAME.d/50-test.conf
systemctl daemon-reload
systemctl start $GAME
check "$GAME is active" wait_for 10 unit_is $GAME active
check "the host is StandingBy at the agent" wait_for 30 state_is StandingBy
check "... and in gsmsd" wait_for 15 gsms_host_state_is StandingBy
# The game now holds GET /v1/session?wait=30. Restarting the agent (as an upgrade does) must
# answer that wait rather than cut it: the game just asks again.
old_pid=$(prop $AGENT MainPID)
systemctl restart $AGENT
check "systemctl restart $AGENT while the game waits (pid $old_pid -> $(prop $AGENT MainPID))" \
  test "$(prop $AGENT ActiveState)" = active
check "the host is StandingBy again in gsmsd" wait_for 15 gsms_host_state_is StandingBy
check "the game's waiting request was answered, not cut (no 'waiting for a session failed')" \
  bash -c '! journalctl -q --no-pager -u '$GAME' | grep -q "waiting for a session failed"'

# ---------------------------------------------------------------- allocation
echo "== a title allocates the host through gsmsd"
token=$(sessionhostctl token --key-file /etc/gsms/token.key --title $TITLE 2>&1); rc=$?
check "sessionhostctl token --key-file /etc/gsms/token.key --title $TITLE (rc=$rc)" test "$rc" = 0
SID=$(cat /proc/sys/kernel/random/uuid)
COOKIE="map=dust2;mode=ctf"
code=$(curl -sS --max-time 30 -o /tmp/alloc.json -w '%{http_code}' -X POST \
  -H "Authorization: XBL3.0 x=-;$token" -H 'Content-Type: application/json' \
  -d "{\"sessionId\": \"$SID\", \"sessionCookie\": \"$COOKIE\", \"locations\": [\"West US\"]}" \
  "$GSMS_URL/titles/$TITLE/sessionhosts")
info "POST /titles/$TITLE/sessionhosts: $code $(cat /tmp/alloc.json)"
check "allocation 200 (got $code) on this host" \
  bash -c '[ "$1" = 200 ] && grep -q "\"sessionHostId\" *: *\"$2\"" /tmp/alloc.json' _ "$code" "$HOST_ID"
check "the game got the session and its cookie" \
  wait_for 15 journal_has $GAME "session started: sessionId=$SID sessionCookie=$COOKIE"
check "gsmsd has the host Active" wait_for 10 gsms_host_state_is Active
# Structured journal entries (docs/operations.md, "Logs"): both daemons wrote entries for the
# session with its id, the host id, the title id and a priority as fields.
check "journalctl -u $GSMS SESSION_ID=$SID -o json: entries with SESSION_ID, SESSION_HOST_ID, TITLE_ID, PRIORITY" \
  wait_for 10 session_journal_fields $GSMS "$SID" "$HOST_ID" $TITLE
info "gsmsd: $(session_entry_summary $GSMS "$SID")"
check "journalctl -u $AGENT SESSION_ID=$SID -o json: entries with SESSION_ID, SESSION_HOST_ID, TITLE_ID, PRIORITY" \
  wait_for 10 session_journal_fields $AGENT "$SID" "$HOST_ID" $TITLE
info "sessionhostd: $(session_entry_summary $AGENT "$SID")"

# ---------------------------------------------------------------- upgrade mid-session
echo "== upgrade sessionhostd $V1 -> $V2 while the session is Active"
U=/tmp/upgrade; mkdir -p $U
# A game's requests during the upgrade: two loops of heartbeats, 20 a second each, every
# answer's status in a file (000: the request failed).
heartbeat_loop() {
  while [ ! -e $U/stop ]; do
    curl -s --max-time 15 --unix-socket $SOCK -o /dev/null -w '%{http_code}\n' -X POST \
      -H 'Content-Type: application/json' -d '{"health":"Healthy"}' http://localhost/v1/heartbeat
    sleep 0.05
  done
}
heartbeat_loop > $U/heartbeats.1 &
hb_loop1=$!
heartbeat_loop > $U/heartbeats.2 &
hb_loop2=$!
heartbeats() { cat $U/heartbeats.1 $U/heartbeats.2; }
# gsmsd's view of the host, every 0.25 s.
( while [ ! -e $U/stop ]; do
    state=$(gsms_host 2>/dev/null | tr -d '\n' | json_string state)
    echo "${state:-none}"
    sleep 0.25
  done > $U/gsms-states ) &
gsms_loop=$!
# A follower of the agent's events: its stream must end cleanly, not be cut.
( curl -sS -N --max-time 120 --unix-socket $SOCK http://localhost/v1/events > $U/events 2> $U/events.err
  echo $? > $U/events.rc ) &
wait_for 10 test -s $U/events
wait_for 10 bash -c '[ "$(cat '$U'/heartbeats.* | grep -c 200)" -ge 5 ]'
old_pid=$(prop $AGENT MainPID)
old_inode=$(stat -c %i /usr/bin/sessionhostd)
old_exe=$(stat -L -c %i /proc/"$old_pid"/exe)
socket_since=$(prop $AGENT_SOCKET ActiveEnterTimestampMonotonic)
socket_inode=$(stat -c %i $SOCK)
game_pid=$(prop $GAME MainPID)
game_failures_before=$(journal_count $GAME "failed")
before=$(heartbeats | wc -l)
t0=$(date +%s.%N)
out=$(apt-get install -y -q "$AGENT_DEB2" 2>&1); rc=$?
t1=$(date +%s.%N)
new_pid=$(prop $AGENT MainPID)
check "apt-get install ./sessionhostd_${V2}_$ARCH.deb (rc=$rc, $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')s): version $(pkg_version sessionhostd)" \
  test "$rc/$(pkg_version sessionhostd)" = "0/$V2"
[ "$rc" = 0 ] || info "$(printf '%s' "$out" | tail -n 15)"
check "/usr/bin/sessionhostd was replaced (inode $old_inode -> $(stat -c %i /usr/bin/sessionhostd))" \
  test "$(stat -c %i /usr/bin/sessionhostd)" != "$old_inode"
check "the old agent ran the old binary" test "$old_exe" = "$old_inode"
check "the agent was restarted (pid $old_pid -> $new_pid) and is active/running" \
  test "$new_pid" != "$old_pid" -a "$new_pid" != 0 -a "$(prop $AGENT ActiveState)/$(prop $AGENT SubState)" = active/running
check "... on the new binary" test "$(stat -L -c %i /proc/"$new_pid"/exe)" = "$(stat -c %i /usr/bin/sessionhostd)"
check "sessionhostd.socket was not restarted (active since the same moment)" \
  test "$(prop $AGENT_SOCKET ActiveEnterTimestampMonotonic)/$(prop $AGENT_SOCKET ActiveState)" = "$socket_since/active"
check "... and its socket file is the same (inode $socket_inode)" test "$(stat -c %i $SOCK)" = "$socket_inode"
session_json=$(acurl http://localhost/v1/session 2>&1 | tr -d '\n')
info "GET /v1/session: $session_json"
check "the session is still Active with its id and cookie" \
  test "$(printf '%s' "$session_json" | json_string state)/$(printf '%s' "$session_json" | json_string sessionId)/$(printf '%s' "$session_json" | json_string sessionCookie)" = "Active/$SID/$COOKIE"
# Let the game carry on for a while on the new agent: 40 more heartbeats (1 s or more).
wait_for 20 bash -c '[ "$(cat '$U'/heartbeats.* | wc -l)" -ge $(( '"$before"' + 40 )) ]'
check "gsmsd still has the host Active" gsms_host_state_is Active
touch $U/stop
wait $hb_loop1 $hb_loop2 $gsms_loop 2>/dev/null
wait_for 15 test -s $U/events.rc
during=$(( $(heartbeats | wc -l) - before ))
bad=$(heartbeats | grep -vc '^200$')
check "every game heartbeat was answered 200: $(heartbeats | grep -c '^200$') in all, $during during and after the upgrade, $bad not" \
  test "$bad" = 0 -a "$during" -ge 40
check "gsmsd saw the host Active in every one of $(wc -l < $U/gsms-states) looks during the upgrade ($(sort $U/gsms-states | uniq -c | tr -s ' \n' ' '))" \
  bash -c '[ -s '$U'/gsms-states ] && ! grep -vqx Active '$U'/gsms-states'
check "the events stream ended cleanly when the old agent stopped (curl exit $(cat $U/events.rc 2>/dev/null), $(wc -l < $U/events) events)" \
  test "$(cat $U/events.rc 2>/dev/null)" = 0
[ "$(cat $U/events.rc 2>/dev/null)" = 0 ] || info "events: $(cat $U/events.err)"
check "the example game server kept running (pid $game_pid) and logged no failed request" \
  test "$(prop $GAME MainPID)/$(journal_count $GAME failed)" = "$game_pid/$game_failures_before"
check "the journal shows the old agent stop and the new one load the Active session" \
  bash -c 'journalctl -q --no-pager -u '$AGENT' _PID='"$new_pid"' | grep "agent state loaded" | grep -q "Active"'
code=$(curl -sS --max-time 10 -o /tmp/lookup.json -w '%{http_code}' -H "Authorization: XBL3.0 x=-;$token" \
  "$GSMS_URL/titles/$TITLE/sessionhosts/$SID")
check "the title still finds the session on the host (GET sessionhosts/{sessionId}: $code)" \
  bash -c '[ "$1" = 200 ] && grep -q "$2" /tmp/lookup.json' _ "$code" "$HOST_ID"

# ---------------------------------------------------------------- gsmsd upgrade
echo "== upgrade gsmsd $V1 -> $V2"
old_gpid=$(prop $GSMS MainPID)
out=$(apt-get install -y -q "$GSMS_DEB2" 2>&1); rc=$?
check "apt-get install ./gsmsd_${V2}_$ARCH.deb (rc=$rc): version $(pkg_version gsmsd)" test "$rc/$(pkg_version gsmsd)" = "0/$V2"
[ "$rc" = 0 ] || info "$(printf '%s' "$out" | tail -n 15)"
check "the modified /etc/gsms/gsmsd.json is kept" grep -q '"host-timeout": 5' /etc/gsms/gsmsd.json
check "gsmsd was restarted (pid $old_gpid -> $(prop $GSMS MainPID)) and is active" \
  test "$(prop $GSMS MainPID)" != "$old_gpid" -a "$(prop $GSMS ActiveState)" = active
check "the host is Active in the new gsmsd" wait_for 10 gsms_host_state_is Active
check "... and stays Active past the host timeout (5 s): the agent heartbeats to the new gsmsd" \
  stays_for 7 gsms_host_state_is Active

# ---------------------------------------------------------------- remove and purge
echo "== apt-get remove keeps the data, purge deletes it"
out=$(apt-get remove -y -q sessionhost-example-game-server sessionhostd gsmsd 2>&1); rc=$?
check "apt-get remove (rc=$rc)" test "$rc" = 0
[ "$rc" = 0 ] || info "$(printf '%s' "$out" | tail -n 15)"
check "the three packages are removed, their configuration kept (status rc)" \
  test "$(pkg_status sessionhostd)/$(pkg_status gsmsd)/$(pkg_status sessionhost-example-game-server)" = rc/rc/rc
check "the units were stopped" \
  bash -c 'for u in '$AGENT' '$AGENT_SOCKET' '$GSMS' '$GAME'; do [ "$(systemctl show -p ActiveState --value $u)" = inactive ] || exit 1; done'
check "the binaries are gone" test ! -e /usr/bin/sessionhostd -a ! -e /usr/bin/gsmsd -a ! -e /usr/bin/sessionhostctl
check "the socket file is gone" test ! -e $SOCK
check "/var/lib/sessionhost/state.json is kept, with the session" grep -q "$SID" /var/lib/sessionhost/state.json
check "/var/lib/gsms/gsms.sqlite is kept" test -s /var/lib/gsms/gsms.sqlite
check "the configuration and secrets are kept" \
  test -f /etc/sessionhost/sessionhostd.json -a -f /etc/sessionhost/agent.token -a -f /etc/gsms/gsmsd.json -a -f /etc/gsms/token.key
check "the users are kept" bash -c 'getent passwd sessionhost >/dev/null && getent passwd gsms >/dev/null'
out=$(apt-get purge -y -q sessionhost-example-game-server sessionhostd gsmsd 2>&1); rc=$?
check "apt-get purge (rc=$rc)" test "$rc" = 0
[ "$rc" = 0 ] || info "$(printf '%s' "$out" | tail -n 15)"
check "dpkg forgot the packages" \
  test -z "$(pkg_status sessionhostd)$(pkg_status gsmsd)$(pkg_status sessionhost-example-game-server)"
check "/var/lib/sessionhost and /var/lib/gsms are deleted" test ! -e /var/lib/sessionhost -a ! -e /var/lib/gsms
check "/etc/sessionhost and /etc/gsms are deleted (configuration and secrets)" test ! -e /etc/sessionhost -a ! -e /etc/gsms
check "no enablement symlink is left" \
  bash -c '! find /etc/systemd/system -name "sessionhostd.*" -o -name "gsmsd.*" | grep -v "\.d$" | grep -q .'
info "$(find /etc/systemd/system -name 'sessionhostd*' -o -name 'gsmsd*' -o -name 'example-game-server*' | tr '\n' ' ')"

# ---------------------------------------------------------------- fresh install, local mode
echo "== fresh install of sessionhostd $V2 without a control plane (local mode)"
out=$(apt-get install -y -q "$AGENT_DEB2" 2>&1); rc=$?
check "apt-get install ./sessionhostd_${V2}_$ARCH.deb (rc=$rc)" test "$rc" = 0
[ "$rc" = 0 ] || info "$(printf '%s' "$out" | tail -n 15)"
check "the example configuration (local mode) is installed" \
  bash -c '! grep -q "control-plane" /etc/sessionhost/sessionhostd.json && grep -q "\"title-id\"" /etc/sessionhost/sessionhostd.json'
check "sessionhostd.socket is started, sessionhostd.service enabled but not started" \
  test "$(prop $AGENT_SOCKET ActiveState)/$(systemctl is-enabled $AGENT)/$(prop $AGENT ActiveState)" = active/enabled/inactive
check "the first connection starts the agent (local mode)" \
  bash -c 'curl -sS --max-time 15 --unix-socket '$SOCK' http://localhost/v1/host | grep -q "\"state\""'
out=$(apt-get purge -y -q sessionhostd 2>&1); rc=$?
check "apt-get purge sessionhostd (rc=$rc) stops it and deletes its state" \
  test "$rc/$(prop $AGENT ActiveState)/$(test -e /var/lib/sessionhost && echo kept)" = 0/inactive/

echo "== $passes passed, $failures failed"
[ "$failures" -gt 100 ] && failures=100
exit "$failures"
