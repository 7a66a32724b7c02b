#!/bin/sh
# Example SessionHost game server: POSIX sh + curl, no jq.
#
# Talks to the session-host agent over its Unix socket ($SESSIONHOST_SOCKET):
#   POST /v1/ready               -> the host becomes StandingBy
#   POST /v1/heartbeat           -> every $HEARTBEAT_INTERVAL seconds, in the background
#   GET  /v1/session?wait=30     -> long-poll until the session is Active
#   POST /v1/session/end         -> after $SESSION_SECONDS of "play", then ready again
# Installed as /usr/lib/sessionhost/example-game-server.sh by example-game-server.service.
set -u

SOCK=${SESSIONHOST_SOCKET:-/run/sessionhost/agent.sock}
HEARTBEAT_INTERVAL=${HEARTBEAT_INTERVAL:-5}
SESSION_SECONDS=${SESSION_SECONDS:-20}
WAIT_SECONDS=${WAIT_SECONDS:-30}
READY_ATTEMPTS=${READY_ATTEMPTS:-30}

log() { printf '%s\n' "example-game-server: $*"; }

# api METHOD PATH [JSON-BODY] [MAX-TIME]: sets $code (HTTP status, 000 when the agent is
# unreachable) and $body (the response body).
api() {
    _method=$1 _path=$2 _data=${3:-} _max=${4:-10}
    if [ -n "$_data" ]; then
        _resp=$(curl -sS --max-time "$_max" --unix-socket "$SOCK" -X "$_method" \
            -H 'Content-Type: application/json' --data "$_data" \
            -w '\n%{http_code}' "http://localhost$_path" 2>&1)
    else
        _resp=$(curl -sS --max-time "$_max" --unix-socket "$SOCK" -X "$_method" \
            -w '\n%{http_code}' "http://localhost$_path" 2>&1)
    fi
    code=${_resp##*
}
    body=${_resp%
*}
    case $code in [0-9][0-9][0-9]) ;; *) body=$_resp code=000 ;; esac
}

# json_string KEY: the string value of "KEY" in $body (flat JSON, no escaped quotes).
json_string() {
    printf '%s' "$body" | tr -d '\n' |
        sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"
}

ready() {
    _i=0
    while :; do
        api POST /v1/ready '{}'
        case $code in
            2??) log "ready: the host is StandingBy"; return 0 ;;
            000) ;;
            *) log "ready refused (HTTP $code): $body"; return 1 ;;
        esac
        _i=$((_i + 1))
        if [ "$_i" -ge "$READY_ATTEMPTS" ]; then
            log "agent unreachable at $SOCK: $body"
            exit 1
        fi
        sleep 1
    done
}

heartbeats() {
    while :; do
        api POST /v1/heartbeat '{"health":"Healthy"}'
        case $code in 2??) ;; *) log "heartbeat failed (HTTP $code): $body" ;; esac
        sleep "$HEARTBEAT_INTERVAL"
    done
}

hb_pid=
cleanup() { [ -n "$hb_pid" ] && kill "$hb_pid" 2>/dev/null; }
trap cleanup EXIT
trap 'log "stopping"; exit 0' TERM INT

log "starting, agent socket $SOCK"
ready || true           # 409 (e.g. a session is still Active after our restart) is fine
heartbeats &
hb_pid=$!

while :; do
    # Wait for the allocation.
    while :; do
        api GET "/v1/session?wait=$WAIT_SECONDS" '' $((WAIT_SECONDS + 10))
        if [ "$code" = 200 ] && [ "$(json_string state)" = Active ]; then
            break
        fi
        [ "$code" = 200 ] || { log "waiting for a session failed (HTTP $code): $body"; sleep 1; }
    done
    session_id=$(json_string sessionId)
    cookie=$(json_string sessionCookie)
    log "session started: sessionId=$session_id sessionCookie=$cookie"

    # "Play" the match.
    sleep "$SESSION_SECONDS" &
    wait $!

    api POST /v1/session/end '{}'
    case $code in
        2??) log "session ended: sessionId=$session_id" ;;
        *) log "ending session $session_id failed (HTTP $code): $body" ;;
    esac
    ready || sleep 1
done
