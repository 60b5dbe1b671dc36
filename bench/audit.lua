-- wrk script: access-record intake (POST /audit/v1/events) as a back office sends it:
-- batches of BENCH_BATCH events (default 500), each with an event id unique across threads
-- and runs, so every event is new and stored. Environment: BENCH_TOKEN, BENCH_BATCH,
-- BENCH_RUN (a run label that keeps ids unique across runs).

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  n = 0
  token = os.getenv("BENCH_TOKEN")
  batch = tonumber(os.getenv("BENCH_BATCH") or "500")
  run = os.getenv("BENCH_RUN") or "0"
end

function request()
  n = n + 1
  local events = {}
  for i = 1, batch do
    events[i] = string.format(
      '{"event_id":"r%s-t%d-%d-%d","ts":"2026-12-07T09:30:00+09:00","kind":"access",'
      .. '"actor_id":"official-%d","actor_agency":"mapo-gu","source_ip":"10.1.2.3",'
      .. '"outcome":"success","subject_id":"citizen-%d","action":"view",'
      .. '"data_categories":["income"],"purpose":"benefit review"}',
      run, id, n, i, i % 50, (n * batch + i) % 100000)
  end
  local body = '{"events":[' .. table.concat(events, ",") .. ']}'
  return wrk.format("POST", "/audit/v1/events", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
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
  io.write(string.format("BENCH non200=%d requests=%d batch=%d p50_us=%d p99_us=%d\n",
    bad, summary.requests, tonumber(os.getenv("BENCH_BATCH") or "500"),
    latency:percentile(50), latency:percentile(99)))
end
