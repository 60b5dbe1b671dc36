-- wrk script: plain GETs (discovery, JWKS). No response() callback: defining one makes wrk
-- hand every status, header and body to Lua, which costs the shared CPUs more than the
-- server's own work on these cached documents. Failures come from wrk's own count of
-- responses with status >= 400 (summary.errors.status); neither endpoint redirects.

function done(summary, latency, requests)
  io.write(string.format("BENCH non200=%d requests=%d p50_us=%d p99_us=%d\n",
    summary.errors.status, summary.requests, latency:percentile(50), latency:percentile(99)))
end
