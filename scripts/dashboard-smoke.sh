#!/usr/bin/env bash
# Dashboard smoke run: starts the whole system with the Aspire dashboard, runs one generation
# through the FLUX.1-dev → schnell fallback, and saves a screenshot of its trace in the dashboard
# (default docs/images/dashboard-trace.png; pass another path as $1). Then stops everything.
#
# Not part of CI (.ci/run does not call it): it takes the fixed ports below and a minute or two.
#
# Prerequisites (Linux; from a fresh clone):
#   - .NET 10 SDK; NuGet reachable once, to restore the solution and Microsoft.Playwright for
#     scripts/dashboard-trace-screenshot.cs (a .NET file-based app; no Playwright browser download)
#   - redis-server on PATH (Debian/Ubuntu: sudo apt-get install redis-server); no Docker needed
#   - Chromium at /usr/bin/chromium (Debian: sudo apt-get install chromium), or set CHROMIUM_PATH
#   - curl
#   - free ports 5080 (api), 15080 (dashboard), 19080 (OTLP), 20080 (resource service)
#
# How: `dotnet run --project Lumiku.AppHost -- --Redis:Mode=local --Emulator:Tier=free` with
# ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true (no login token needed; its telemetry API is
# then open too, which is how the screenshot tool finds the trace). The free emulator tier answers
# FLUX.1-dev with 400 "Model access denied. Upgrade to PRO.", so the job falls back to schnell.
# Redis data and images go to a temporary folder, not Lumiku.AppHost/.data.
set -euo pipefail
cd "$(dirname "$0")/.."

output=${1:-docs/images/dashboard-trace.png}
api=http://localhost:5080
dashboard=http://localhost:15080
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Leave no build servers behind: this script ends every process it started.
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false

fail() { echo "dashboard-smoke: $*" >&2; exit 1; }

for tool in dotnet redis-server curl; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not on PATH (see the prerequisites at the top of $0)"
done
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || fail "no Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium}; install it or set CHROMIUM_PATH"
for port in 5080 15080 19080 20080; do
  # curl exit code 7: connection refused, so nothing listens there.
  code=0; curl -s -o /dev/null --max-time 2 "http://localhost:$port/" || code=$?
  [ "$code" -eq 7 ] || fail "port $port is in use (is another AppHost running?)"
done

work=$(mktemp -d)
log=$work/apphost.log
apphost_sid=""
dcp_sids=""

# Every process this script started through the AppHost: its own session (dotnet run, the
# AppHost) and DCP's sessions (DCP detaches; it runs redis-server, api, worker, emulator, dashboard).
session_processes() {
  local sids="$apphost_sid $dcp_sids" sid
  for sid in $sids; do
    ps -eo pid=,sid=,comm= | awk -v s="$sid" '$2 == s'
  done
}

# DCP's processes name the process they watch: --monitor <pid>. Follow that from the AppHost.
find_dcp_sessions() {
  local watched apphost_pid pid
  apphost_pid=$(ps -eo pid=,sid=,comm= | awk -v s="$apphost_sid" '$2 == s && $3 == "Lumiku.AppHost" { print $1; exit }')
  [ -n "$apphost_pid" ] || return 0
  watched=$apphost_pid
  for _ in 1 2; do
    for pid in $(ps -eo pid=,args= | awk -v w=" --monitor $watched( |$)" '$0 ~ /dcp/ && $0 ~ w { print $1 }'); do
      dcp_sids="$dcp_sids $(ps -o sid= -p "$pid" | tr -d ' ')"
      watched=$pid
    done
  done
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$apphost_sid" ]; then
    [ -n "$dcp_sids" ] || find_dcp_sessions
    echo "Stopping the AppHost (SIGTERM to its process group $apphost_sid)..."
    kill -TERM -- "-$apphost_sid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      [ -z "$(session_processes)" ] && break
      sleep 1
    done
    if [ -n "$(session_processes)" ]; then
      echo "Still running after 60 s, killing:"
      session_processes
      for sid in $apphost_sid $dcp_sids; do kill -KILL -- "-$sid" 2>/dev/null || true; done
      sleep 1
    fi
    if [ -n "$(session_processes)" ]; then
      echo "dashboard-smoke: processes left behind:" >&2
      session_processes >&2
      status=1
    else
      echo "Stopped: no AppHost, DCP, redis-server or service process is left."
    fi
  fi
  if [ "$status" -ne 0 ] && [ -f "$log" ]; then
    echo "--- last AppHost output ($log) ---" >&2
    tail -40 "$log" >&2
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "Building the AppHost and the screenshot tool..."
dotnet build Lumiku.AppHost -nologo -v q
dotnet build scripts/dashboard-trace-screenshot.cs -nologo -v q

echo "Starting the AppHost (log: $log)..."
ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true setsid dotnet run --project Lumiku.AppHost --no-build -- \
  --Redis:Mode=local --Redis:DataPath="$work/redis" --Storage:ImagesPath="$work/images" \
  --Emulator:Tier=free >"$log" 2>&1 &
apphost_sid=$!
# setsid makes the background job a session (and process group) leader: its pid is the group id.
for i in $(seq 1 50); do
  [ "$(ps -o sid= -p "$apphost_sid" | tr -d ' ')" = "$apphost_sid" ] && break
  [ "$i" -lt 50 ] || fail "the AppHost did not get its own session"
  sleep 0.1
done

echo "Waiting for the api ($api/health)..."
for i in $(seq 1 300); do
  curl -sf -o /dev/null --max-time 2 "$api/health" && break
  kill -0 "$apphost_sid" 2>/dev/null || fail "the AppHost exited"
  [ "$i" -lt 300 ] || fail "the api was not healthy within 300 s"
  sleep 1
done
find_dcp_sessions
echo "Dashboard: $dashboard (anonymous access); AppHost session $apphost_sid, DCP sessions${dcp_sids:- (none found)}"

token=$(curl -sf -X POST "$api/dev/token" -H 'content-type: application/json' -d '{"user":"ops"}' \
  | sed -E 's/.*"token":"([^"]+)".*/\1/')
[ -n "$token" ] || fail "no dev token"

accepted=$(curl -sf -X POST "$api/v1/generations" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"prompt":"A professional headshot of a site reliability engineer, studio light","width":512,"height":512,"seed":42}')
id=$(printf '%s' "$accepted" | sed -E 's/.*"id":"([0-9a-f]+)".*/\1/')
[ -n "$id" ] && [ "$id" != "$accepted" ] || fail "submission not accepted: $accepted"
echo "Generation $id queued; waiting for it to finish..."

for i in $(seq 1 120); do
  generation=$(curl -sf "$api/v1/generations/$id" -H "authorization: Bearer $token")
  case "$generation" in
    *'"status":"succeeded"'*) break ;;
    *'"status":"failed"'* | *'"status":"canceled"'*) fail "generation ended: $generation" ;;
  esac
  [ "$i" -lt 120 ] || fail "generation $id not finished within 120 s: $generation"
  sleep 1
done
case "$generation" in
  *'"fellBack":true'*) echo "Succeeded with a fallback: $(printf '%s' "$generation" | sed -E 's/.*"modelUsed":"([^"]+)".*"fallbackReason":"([^"]*)".*/\1 after "\2"/')" ;;
  *) fail "the generation did not fall back: $generation" ;;
esac

mkdir -p "$(dirname "$output")"
dotnet run scripts/dashboard-trace-screenshot.cs -- "$dashboard" "$id" "$output"
echo "Screenshot: $output"
