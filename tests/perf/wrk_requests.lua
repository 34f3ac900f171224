-- wrk script: each request is a line of the file given after `--`: METHOD<TAB>PATH<TAB>BODY<TAB>IF-NONE-MATCH,
-- picked at random; every request comes from its own made-up client address (X-Forwarded-For, which the
-- gateway believes from 127.0.0.1 in the benchmark), as many people would ask. Counts answers whose body
-- carries GraphQL errors and prints them when done.
local requests = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    local method, path, body, etag = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?([^\t]*)$")
    table.insert(requests, {method = method, path = path, body = body, etag = etag})
  end
  errors = 0
  math.randomseed(os.time() + math.random(1, 100000))
end

function request()
  local r = requests[math.random(#requests)]
  local headers = {}
  headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  if r.method == "POST" then
    headers["Content-Type"] = "application/json"
  end
  if r.etag ~= nil and r.etag ~= "" then
    headers["If-None-Match"] = r.etag
  end
  return wrk.format(r.method, r.path, headers, r.body ~= "" and r.body or nil)
end

function response(status, headers, body)
  if body ~= nil and string.find(body, '"errors"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("errors")
  end
  io.write(string.format("graphql_errors %d\n", total))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("percentile %d %d\n", p, latency:percentile(p)))
  end
end
