-- wrk script: AuthZEN access evaluations (POST /access/v1/evaluation) as a back office makes
-- them: a bearer token with the authzen scope, an official looking up one of many citizens'
-- records with a stated purpose. Every evaluation is recorded before the answer.
-- Environment: BENCH_TOKEN (the access token). Counts non-200 answers and prints the total.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  n = 0
  token = os.getenv("BENCH_TOKEN")
  if not token or token == "" then
    error("BENCH_TOKEN is not set")
  end
end

function request()
  n = n + 1
  local body = '{"subject":{"type":"official","id":"kim","properties":{"role":"caseworker"}},'
    .. '"action":{"name":"view"},'
    .. '"resource":{"type":"citizen_record","id":"c-' .. (n % 5000)
    .. '","properties":{"region":"11","data_categories":["income"]}},'
    .. '"context":{"purpose":"emergency","case_id":"2026-' .. n .. '"}}'
  return wrk.format("POST", "/access/v1/evaluation", {
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
  io.write(string.format("BENCH non200=%d requests=%d p50_us=%d p99_us=%d\n",
    bad, summary.requests, latency:percentile(50), latency:percentile(99)))
end
