-- wrk script: client_credentials token requests (RFC 6749 §4.4) with client_secret_basic.
-- Environment: BENCH_AUTH = base64("client_id:client_secret"), BENCH_SCOPE (default bench.read).
-- Counts non-200 responses per thread and prints the total in done().

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  local auth = os.getenv("BENCH_AUTH")
  if not auth or auth == "" then
    error("BENCH_AUTH is not set")
  end
  local scope = os.getenv("BENCH_SCOPE") or "bench.read"
  req = wrk.format("POST", "/token", {
    ["Authorization"] = "Basic " .. auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "grant_type=client_credentials&scope=" .. scope)
end

function request()
  return req
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    if non200 == 1 then
      io.stderr:write("first non-200: " .. status .. " " .. body .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non200")
  end
  io.write(string.format("BENCH non200=%d requests=%d p50_us=%d p99_us=%d\n",
    bad, summary.requests, latency:percentile(50), latency:percentile(99)))
end
