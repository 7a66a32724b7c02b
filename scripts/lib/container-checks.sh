# Helpers for the check scripts that run INSIDE the test containers (systemd-test-checks.sh,
# package-test-checks.sh); copied next to them as checks-lib.sh and sourced after SOCK is set.
# shellcheck shell=bash
failures=0 passes=0
pass() { echo "PASS: $*"; passes=$((passes + 1)); }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
info() { echo "      $*"; }
prop() { systemctl show -p "$2" --value "$1"; }

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
journal_has() { journalctl -q --no-pager -u "$1" | grep -q -- "$2"; }
journal_count() { journalctl -q --no-pager -u "$1" | grep -c -- "$2"; }
# session_journal_fields UNIT SESSION HOST TITLE: UNIT logged entries for SESSION
# (`journalctl -u UNIT SESSION_ID=SESSION -o json`), and every one of them carries the structured
# fields SESSION_ID, SESSION_HOST_ID=HOST, TITLE_ID=TITLE and a syslog PRIORITY.
session_entries() { journalctl -q --no-pager -o json -u "$1" SESSION_ID="$2"; }
session_journal_fields() {
  local entries field
  entries=$(session_entries "$1" "$2")
  [ -n "$entries" ] || return 1
  for field in "\"SESSION_ID\" *: *\"$2\"" "\"SESSION_HOST_ID\" *: *\"$3\"" "\"TITLE_ID\" *: *\"$4\"" \
    '"PRIORITY" *: *"[0-7]"'; do
    # An entry without the field fails the check.
    if printf '%s\n' "$entries" | grep -vq -- "$field"; then return 1; fi
  done
}
# session_entry_summary UNIT SESSION: the count and the first entry's fields, for the log.
session_entry_summary() {
  local entries; entries=$(session_entries "$1" "$2")
  printf '%s entries; first: %s' "$(printf '%s' "$entries" | grep -c .)" \
    "$(printf '%s\n' "$entries" | head -n1 | grep -oE '"(MESSAGE|PRIORITY|SYSLOG_IDENTIFIER|SESSION_ID|SESSION_HOST_ID|TITLE_ID)" *: *"([^"\\]|\\.)*"' | tr '\n' ' ')"
}
