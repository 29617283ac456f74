-- wrk workloads of scripts/bench/run.py: POST /login with a form body and
-- the client address in X-Forwarded-For (the servers trust it from
-- 127.0.0.1).
--
--   wrk ... -s login.lua URL -- MODE BASE CAP
--
-- MODE  fail     wrong password, a new username and address every request
--       success  alice with the right password, a new address every request
--       locked   one locked-out client (address and username) hammering
--       spray    one address, a new username every request
-- BASE  where this run's numbering starts (keeps runs on one server apart)
-- CAP   stop after this many answers (0: only the time bound); wrk still
--       waits out -d, so the time to the cap is printed as CAPPED
--
-- Prints STATUSES, LATENCY (µs) and TOTAL lines for the runner.

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "fail"
  base = tonumber(args[2] or "0")
  cap = tonumber(args[3] or "0")
  counter = 0
  answered = 0
  c200, c303, c401, c429, cother = 0, 0, 0, 0, 0
  capped_us = 0
  if cap > 0 then started = now_us() end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

-- Wall-clock microseconds (wrk's Lua has no clock of its own).
function now_us()
  local p = io.popen("date +%s%6N")
  local t = tonumber(p:read("*l"))
  p:close()
  return t
end

-- The n-th address from 10.0.0.0 up (16 777 216 of them).
local function address(n)
  n = n % 16777216
  return string.format("10.%d.%d.%d", math.floor(n / 65536) % 256,
    math.floor(n / 256) % 256, n % 256)
end

request = function()
  local n = base + id * 4000000 + counter
  counter = counter + 1
  local ip, user, pass
  if mode == "locked" then
    ip, user, pass = "192.0.2.1", "victim", "wrong"
  elseif mode == "spray" then
    ip, user, pass = "192.0.2.2", "spray" .. n, "wrong"
  elseif mode == "success" then
    ip, user, pass = address(n), "alice", "wonderland"
  else
    ip, user, pass = address(n), "user" .. n, "wrong"
  end
  wrk.headers["X-Forwarded-For"] = ip
  return wrk.format(nil, "/login", nil, "username=" .. user .. "&password=" .. pass)
end

response = function(status, headers, body)
  answered = answered + 1
  if status == 200 then c200 = c200 + 1
  elseif status == 303 then c303 = c303 + 1
  elseif status == 401 then c401 = c401 + 1
  elseif status == 429 then c429 = c429 + 1
  else cother = cother + 1 end
  if cap > 0 and answered == cap then
    capped_us = now_us() - started
    wrk.thread:stop()
  end
end

done = function(summary, latency, requests)
  local t = { c200 = 0, c303 = 0, c401 = 0, c429 = 0, cother = 0, capped_us = 0 }
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
  end
  io.write(string.format("STATUSES 200:%d 303:%d 401:%d 429:%d other:%d\n",
    t.c200, t.c303, t.c401, t.c429, t.cother))
  io.write(string.format("CAPPED elapsed_us:%d\n", t.capped_us))
  io.write(string.format("LATENCY p50_us:%d p99_us:%d\n",
    latency:percentile(50), latency:percentile(99)))
  io.write(string.format("TOTAL requests:%d duration_us:%d errors:%d\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
