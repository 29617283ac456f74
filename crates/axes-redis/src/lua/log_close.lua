-- log_close: fill in the logout time of open access-log rows.
-- KEYS: 1 open-session set. ARGV: 1 row key prefix, 2 logout time (µs),
--       3 batch size.
-- Returns { rows closed, members popped }.
local ids = redis.call('SPOP', KEYS[1], tonumber(ARGV[3]))
local n = 0
for _, m in ipairs(ids) do
  local row = ARGV[1] .. m
  if redis.call('EXISTS', row) == 1 and redis.call('HEXISTS', row, 'lo') == 0 then
    redis.call('HSET', row, 'lo', ARGV[2])
    n = n + 1
  end
end
return { n, #ids }
