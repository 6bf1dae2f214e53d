-- Replays requests listed in a file (one per line: METHOD<TAB>PATH<TAB>BODY), round robin,
-- with the bearer token given as the second argument ("-" for none).
-- `done` prints one machine-readable line: RESULT requests rps p50 p95 p99 (ms) non2xx s5xx sockerr
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  if args[2] and args[2] ~= "-" then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  requests = {}
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
    if method then
      if body == "" then body = nil end
      table.insert(requests, wrk.format(method, path, headers, body))
    end
  end
  -- threads start at different offsets so a mix is interleaved from the first request
  index = math.random(#requests) - 1
  non2xx = 0
  s5xx = 0
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status >= 300 then non2xx = non2xx + 1 end
  if status >= 500 then s5xx = s5xx + 1 end
end

function done(summary, latency, requests)
  local bad, fives = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    fives = fives + thread:get("s5xx")
  end
  local e = summary.errors
  local sockerr = e.connect + e.read + e.write + e.timeout
  io.write(string.format("RESULT %d %.2f %.3f %.3f %.3f %d %d %d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    bad, fives, sockerr))
end
