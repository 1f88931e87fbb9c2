#!/usr/bin/env bash
# A newcomer's first run, timed: `dotnet run --project Lumiku.AppHost` from the first line of the
# build to the first avatar, with the phases in between (build, AppHost/DCP start, dashboard, api
# healthy, first job done). Run it from a fresh clone (or after `git clean -xdf`) on a warm NuGet
# cache. Not part of CI; needs redis-server (or Docker) and curl. Stops the AppHost at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
API=${API:-http://localhost:5080}
LOG=$(mktemp -t lumiku-first-run.XXXXXX)
start=$(date +%s%N)
since() { echo $(( ($(date +%s%N) - start) / 1000000 )); }
at() { printf '%-34s %6.1f s\n' "$1" "$(echo "$2" | awk '{ print $1 / 1000 }')"; }

dotnet run --project Lumiku.AppHost "$@" > "$LOG" 2>&1 &
apphost=$!
trap 'kill $apphost 2>/dev/null; wait $apphost 2>/dev/null || true' EXIT

wait_for_line() { until grep -q "$1" "$LOG"; do kill -0 $apphost 2>/dev/null || { cat "$LOG"; exit 1; }; sleep 0.1; done; since; }
built=$(wait_for_line "Aspire AppHost version")
at "build done, AppHost running" "$built"
dashboard=$(wait_for_line "Login to the dashboard at")
at "dashboard up (DCP started)" "$dashboard"
until curl -fsS -o /dev/null "$API/health" 2>/dev/null; do sleep 0.1; done
at "api healthy" "$(since)"

TOKEN=$(curl -fsS -X POST "$API/dev/token" -H 'content-type: application/json' -d '{"user":"first-run"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
ID=$(curl -fsS -X POST "$API/v1/generations" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
  -d '{"prompt":"A professional headshot of a 25-year-old woman","width":512,"height":512}' | sed -E 's/.*"id":"([0-9a-f]+)".*/\1/')
at "first job accepted" "$(since)"
until curl -fsS "$API/v1/generations/$ID" -H "authorization: Bearer $TOKEN" | grep -q '"status":"succeeded"'; do sleep 0.1; done
at "first avatar (job succeeded)" "$(since)"
