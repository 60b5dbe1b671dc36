# Shared by the load scripts (source it): a dev server and a back office's token.

# start_server BUILD PORT WORK: `anyid serve --dev` of BUILD on PORT, its state in WORK; sets
# SERVER_PID and returns once it is ready.
start_server() {
  "$1/release/anyid" serve --dev --listen "127.0.0.1:$2" --data-dir "$3" \
    >"$3/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 150); do
    curl -sf "http://127.0.0.1:$2/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "the server on $2 did not start; see $3/server.log" >&2
  return 1
}

# service_token BUILD PORT WORK SCOPE: register a client_credentials client with SCOPE and
# print an access token for it.
service_token() {
  "$1/release/anyid" client add --name "back office" --grant-type client_credentials \
    --scope "$4" --json --data-dir "$3" >"$3/client.json"
  python3 - "$3/client.json" "$2" "$4" <<'PY'
import base64, json, sys, urllib.parse, urllib.request
c = json.load(open(sys.argv[1]))
req = urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[2]}/token",
    data=urllib.parse.urlencode({"grant_type": "client_credentials", "scope": sys.argv[3]}).encode(),
    headers={"Authorization": "Basic " + base64.b64encode(
        f"{c['client_id']}:{c['client_secret']}".encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded"})
print(json.load(urllib.request.urlopen(req))["access_token"])
PY
}
