-- wrk script for scripts/bench_http.sh: POST /login with a form body.
-- Modes: fail (wrong password, a new username and IP each request),
-- success (right password, new username and IP each request),
-- locked (one locked-out client, wrong password).
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "fail"
  counter = 0
  c200, c401, c429, cother = 0, 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

request = function()
  counter = counter + 1
  local n = counter + id * 4000000
  local ip, user, pass
  if mode == "locked" then
    ip, user, pass = "127.250.250.250", "victim", "wrong"
  else
    ip = string.format("127.%d.%d.%d", math.floor(n / 65536) % 250,
      math.floor(n / 256) % 256, n % 256)
    user = "user" .. n
    pass = (mode == "success") and "right" or "wrong"
  end
  wrk.headers["X-Forwarded-For"] = ip
  return wrk.format(nil, "/login", nil, "username=" .. user .. "&password=" .. pass)
end

response = function(status, headers, body)
  if status == 200 then c200 = c200 + 1
  elseif status == 401 then c401 = c401 + 1
  elseif status == 429 then c429 = c429 + 1
  else cother = cother + 1 end
end

done = function(summary, latency, requests)
  local t200, t401, t429, tother = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    t200 = t200 + t:get("c200")
    t401 = t401 + t:get("c401")
    t429 = t429 + t:get("c429")
    tother = tother + t:get("cother")
  end
  io.write(string.format("STATUSES 200:%d 401:%d 429:%d other:%d\n", t200, t401, t429, tother))
  io.write(string.format("LATENCY p50_us:%d p99_us:%d\n", latency:percentile(50), latency:percentile(99)))
  io.write(string.format("TOTAL requests:%d duration_us:%d\n", summary.requests, summary.duration))
end
