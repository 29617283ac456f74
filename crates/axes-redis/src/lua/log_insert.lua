-- log_insert: append a log row, then apply the per-username cap.
-- KEYS: 1 id counter, 2 all-rows set, 3 username set, 4 IP set,
--       [5 open-session set (access log only)]
-- ARGV: 1 row key prefix, 2 time (µs), 3 per-username cap (-1: none),
--       4… field, value pairs
-- Returns the new row's number.
local n = redis.call('INCR', KEYS[1])
local id = string.format('%016d', n)
local row = ARGV[1] .. id
local args = { 'HSET', row, 'ku', KEYS[3], 'ki', KEYS[4] }
if KEYS[5] then
  args[#args + 1] = 'ko'
  args[#args + 1] = KEYS[5]
end
for j = 4, #ARGV do args[#args + 1] = ARGV[j] end
redis.call(unpack(args))
redis.call('ZADD', KEYS[2], ARGV[2], id)
redis.call('ZADD', KEYS[3], ARGV[2], id)
redis.call('ZADD', KEYS[4], ARGV[2], id)
if KEYS[5] then redis.call('SADD', KEYS[5], id) end
local cap = tonumber(ARGV[3])
if cap >= 0 then
  local count = redis.call('ZCARD', KEYS[3])
  if count > cap then
    -- oldest first: by time, then by row number (members are zero-padded)
    local old = redis.call('ZRANGE', KEYS[3], 0, count - cap - 1)
    for _, m in ipairs(old) do
      axes_delete_log_row(KEYS[2], ARGV[1] .. m, m)
      redis.call('ZREM', KEYS[3], m)
    end
  end
end
return n
