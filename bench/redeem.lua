-- wrk script: authorization-code redemption (RFC 6749 §4.1.3, PKCE RFC 7636 §4.5).
-- Environment: BENCH_AUTH = base64("client_id:client_secret"), BENCH_CODES = file written by
-- anyid-bench-seed (one token request body per line), BENCH_THREADS = wrk's -t value.
-- Thread k of n takes lines k, k+n, k+2n, ... so no code is sent twice. A redeemed code
-- must answer 200; anything else is counted and reported in done(). If a thread runs out of
-- codes it stops itself (wrk's thread:stop) and done() reports it: seed more codes.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

function init(args)
  non200 = 0
  exhausted = 0
  local auth = os.getenv("BENCH_AUTH")
  local path = os.getenv("BENCH_CODES")
  local n = tonumber(os.getenv("BENCH_THREADS") or "")
  if not auth or not path or not n then
    error("BENCH_AUTH, BENCH_CODES and BENCH_THREADS must be set")
  end
  headers = {
    ["Authorization"] = "Basic " .. auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  bodies = {}
  local i = 0
  for line in io.lines(path) do
    if i % n == index - 1 and line ~= "" then
      bodies[#bodies + 1] = line
    end
    i = i + 1
  end
  next_body = 1
  -- Sent only after this thread ran out of codes, while it stops: harmless and cheap.
  idle = wrk.format("GET", "/healthz")
end

function request()
  local body = bodies[next_body]
  if body == nil then
    if exhausted == 0 then
      exhausted = 1
      wrk.thread:stop()
    end
    return idle
  end
  bodies[next_body] = nil
  next_body = next_body + 1
  return wrk.format("POST", "/token", headers, body)
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
  local bad, dry = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non200")
    dry = dry + t:get("exhausted")
  end
  io.write(string.format("BENCH non200=%d requests=%d p50_us=%d p99_us=%d exhausted_threads=%d\n",
    bad, summary.requests, latency:percentile(50), latency:percentile(99), dry))
end
