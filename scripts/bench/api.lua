-- wrk workloads of scripts/bench/api.sh against the service API of
-- `axes serve`:
--
--   wrk ... -s api.lua URL -- MODE
--
-- MODE  check   POST /api/v1/check, a new address and username every request
--       begin   POST /api/v1/attempts/begin, then POST
--               /api/v1/attempts/{id}/finish {"success": false} with the id
--               it answered (each pair is two requests)
--
-- Prints a STATUSES line (answers by status) per thread at the end.

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "check"
  counter = 0
  ids = {}
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local function address(n)
  n = n % 16777216
  return string.format("10.%d.%d.%d", math.floor(n / 65536) % 256,
    math.floor(n / 256) % 256, n % 256)
end

request = function()
  if mode == "begin" and #ids > 0 then
    local id = table.remove(ids)
    return wrk.format("POST", "/api/v1/attempts/" .. id .. "/finish", nil,
      '{"success": false}')
  end
  local n = id * 4000000 + counter
  counter = counter + 1
  local body = string.format('{"ip_address": "%s", "username": "u%d"}', address(n), n)
  local path = mode == "begin" and "/api/v1/attempts/begin" or "/api/v1/check"
  return wrk.format("POST", path, nil, body)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if mode == "begin" then
    local id = body:match('"id"%s*:%s*"([0-9a-fA-F]+)"')
    if id then table.insert(ids, id) end
  end
end

done = function(summary, latency, requests)
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    local parts = {}
    for k, v in pairs(s) do table.insert(parts, k .. "=" .. v) end
    io.write("STATUSES " .. table.concat(parts, " ") .. "\n")
  end
end
