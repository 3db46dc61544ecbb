#!/usr/bin/env bash
# The demo, in one command on a fresh machine (`npm run demo`):
#   1. installs what is missing (scripts/setup.sh) and builds the npm package (pkg/);
#   2. builds the companion and the stand-in for Altegio's partner API;
#   3. starts the stand-in, the companion (on a fresh SQLite file under target/demo/) serving
#      the partner site from www/, and the booking-widget stand-in on a second origin;
#   4. prints the URLs and a signed registration link, and stays up until Ctrl-C.
# Everything listens on 127.0.0.1 only. Ports default to 8080 (site), 8081 (widget), 8090
# (partner API stand-in) and 8091 (Meta/GA4 stand-in, receiving the companion's server-side
# copies), or any free port when taken; override with DEMO_SITE_PORT, DEMO_WIDGET_PORT,
# DEMO_STANDIN_PORT, DEMO_DESTINATIONS_PORT. DEMO_SKIP_SETUP=1 skips setup and the npm build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

say() { printf '\033[1m[demo]\033[0m %s\n' "$*"; }

# Demo credentials: a stand-in partner token and app ID (the stand-in checks this token).
# The token stays in this script and in the servers' environment, never in a page.
partner_token="demo-partner-token-not-a-secret"
application_id=4242
# The operators' endpoints (/api/locations, /api/collect/status) need this bearer token.
admin_token="demo-admin-token-not-a-secret"
salon_ids=(1001 1002 1003)

if [ "${DEMO_SKIP_SETUP:-0}" != 1 ]; then
  say "setting up (idempotent)"
  bash scripts/setup.sh
  say "building the npm package"
  npm run build --silent
fi
say "building the companion and the partner API stand-in"
cargo build -p altegio-companion --bins --locked
bin="${CARGO_TARGET_DIR:-$root/target}/debug"

# A free port on 127.0.0.1: the preferred one when it is free, any other otherwise.
port() {
  python3 - "$1" <<'PY'
import socket, sys
for candidate in (int(sys.argv[1]), 0):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", candidate))
        print(s.getsockname()[1])
        break
    except OSError:
        pass
    finally:
        s.close()
PY
}
site_port=$(port "${DEMO_SITE_PORT:-8080}")
widget_port=$(port "${DEMO_WIDGET_PORT:-8081}")
standin_port=$(port "${DEMO_STANDIN_PORT:-8090}")
destinations_port=$(port "${DEMO_DESTINATIONS_PORT:-8091}")
if [ "$widget_port" = "$site_port" ] || [ "$standin_port" = "$site_port" ] || [ "$standin_port" = "$widget_port" ]; then
  echo "demo: could not find three distinct free ports; set DEMO_SITE_PORT, DEMO_WIDGET_PORT, DEMO_STANDIN_PORT" >&2
  exit 1
fi
site="http://127.0.0.1:$site_port"
widget="http://127.0.0.1:$widget_port"
standin="http://127.0.0.1:$standin_port"
destinations="http://127.0.0.1:$destinations_port"
if [ "$destinations_port" = "$site_port" ] || [ "$destinations_port" = "$widget_port" ] || [ "$destinations_port" = "$standin_port" ]; then
  echo "demo: could not find four distinct free ports; set DEMO_DESTINATIONS_PORT" >&2
  exit 1
fi
# The demo site on the companion's /api/collect (a public key: it is in the page anyway).
collect_site="studio-bloom"
collect_key="demo-public-key-0123456789"

state="$root/target/demo"
rm -rf "$state"
mkdir -p "$state/www"

# The signed registration link, made here (never in a browser): user_data is base64 of the
# user's JSON, user_data_sign its lower-case hex HMAC-SHA256 keyed with the partner token —
# what Altegio appends when user-data transfer is on.
register_query=$(PARTNER_TOKEN="$partner_token" python3 - "${salon_ids[@]}" <<'PY'
import base64, hashlib, hmac, json, os, sys
from urllib.parse import quote
user = {"id": 90211, "name": "Marta Lange", "phone": "+4930123456", "email": "owner@studio-bloom.example",
        "is_approved": True, "salon_name": "Studio Bloom"}
data = json.dumps(user, separators=(",", ":")).encode()
sign = hmac.new(os.environ["PARTNER_TOKEN"].encode(), data, hashlib.sha256).hexdigest()
ids = "&".join("salon_ids%5B%5D=" + i for i in sys.argv[1:])
print(f"{ids}&user_data={quote(base64.b64encode(data).decode(), safe='')}&user_data_sign={sign}")
PY
)
register_url="$site/register?$register_query"

# The site the companion serves: www/ itself (linked, so edits show on reload) plus the
# demo's runtime settings for the page.
for entry in "$root"/www/*; do ln -s "$entry" "$state/www/"; done
cat >"$state/www/demo-config.js" <<JS
// Written by scripts/demo.sh.
window.DEMO_CONFIG = {
  widgetOrigin: "$widget",
  registerUrl: "/register?$register_query",
  companion: { site: "$collect_site", key: "$collect_key" },
};
JS

pids=()
cleanup() {
  trap - EXIT INT TERM
  if [ "${#pids[@]}" -gt 0 ]; then
    say "stopping"
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ALTEGIO_STANDIN_PARTNER_TOKEN="$partner_token" \
  "$bin/altegio-partner-standin" --listen "127.0.0.1:$standin_port" >"$state/standin.log" 2>&1 &
pids+=($!)

"$bin/altegio-destination-standin" --listen "127.0.0.1:$destinations_port" >"$state/destinations.log" 2>&1 &
pids+=($!)

ALTEGIO_COMPANION_PARTNER_TOKEN="$partner_token" \
ALTEGIO_COMPANION_ADMIN_TOKEN="$admin_token" \
ALTEGIO_COMPANION_META_ACCESS_TOKEN="demo-meta-token" \
ALTEGIO_COMPANION_GA4_API_SECRET="demo-ga4-secret" \
  "$bin/altegio-companion" \
  --listen "127.0.0.1:$site_port" \
  --database "$state/companion.sqlite" \
  --altegio-api "$standin" \
  --application-id "$application_id" \
  --public-url "$site" \
  --www-dir "$state/www" \
  --pkg-dir "$root/pkg" \
  --retry-base-ms 200 \
  --site "id=$collect_site,key=$collect_key,origins=$site" \
  --meta-api "$destinations/v21.0" --meta-pixel-id 1234567890123456 \
  --ga4-api "$destinations" --ga4-measurement-id G-DEMO000001 >"$state/companion.log" 2>&1 &
pids+=($!)

python3 -m http.server "$widget_port" --bind 127.0.0.1 --directory "$root/www/widget" >"$state/widget.log" 2>&1 &
pids+=($!)

# wait_for URL NAME [CURL OPTIONS…]
wait_for() {
  for _ in $(seq 1 100); do
    if curl -fs -o /dev/null "${@:3}" "$1"; then return 0; fi
    sleep 0.2
  done
  echo "demo: $2 did not start; see $state/*.log" >&2
  exit 1
}
wait_for "$standin/__standin/requests" "the partner API stand-in"
wait_for "$site/api/locations" "the companion" -H "Authorization: Bearer $admin_token"
wait_for "$widget/" "the widget server"
wait_for "$destinations/__standin/requests" "the Meta/GA4 stand-in"

cat <<EOF

  Studio Bloom, the partner site:   $site/
  Booking widget stand-in:          $widget/   (another origin, embedded by the site)
  Registration walk-through:        $site/register?salon_ids[]=…  (linked from the site's panel)
  Partner API stand-in's requests:  $standin/__standin/requests
  Meta/GA4 stand-in's requests:     $destinations/__standin/requests

  The companion's operators' endpoints need the admin token:
  curl -H "Authorization: Bearer $admin_token" $site/api/locations
  curl -H "Authorization: Bearer $admin_token" $site/api/collect/status

  The signed registration link (locations ${salon_ids[*]}):
  $register_url

  Logs: $state/*.log — press Ctrl-C to stop.

EOF

# Stay up until Ctrl-C, or until one of the servers stops on its own.
wait -n "${pids[@]}"
echo "demo: a server stopped unexpectedly; see $state/*.log" >&2
exit 1
