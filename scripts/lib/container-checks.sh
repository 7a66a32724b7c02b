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
