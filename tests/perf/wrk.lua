-- wrk script for the benchmark: send the requests in $LOTSE_WRK_REQUESTS in turn (a file,
-- one request per line: METHOD <tab> PATH <tab> BODY [<tab> CLIENT ADDRESS], the body one
-- line of JSON; the address goes out as X-Forwarded-For, as a proxy would send it); count
-- answers that are not 200 or carry GraphQL "errors"; print one JSON line at the end.
local threads = {}
local requests = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  errors = 0
  index = 0
  for line in io.lines(os.getenv("LOTSE_WRK_REQUESTS")) do
    local method, path, body, client = line:match("^(%u+)\t([^\t]*)\t([^\t]*)\t?(.*)$")
    if body == "" then body = nil end
    local headers = {["Content-Type"] = "application/json"}
    if client ~= "" then headers["X-Forwarded-For"] = client end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "failed": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), failed,
    e.connect + e.read + e.write + e.timeout))
end
