-- block_write: set one block row whole (put_block), or — with the check —
-- only while the row is still what the caller read (the compare-and-set of
-- record_lockout, whose new row the caller computed from the old one).
--
-- KEYS: 1 row hash, 2 the kind's index, 3 the index's sweep cursor
-- ARGV: 1 member, 2 row key prefix of the kind, 3 check ('1'/'0'),
--       4 expected created_at ('' = no row), 5 expected lockouts,
--       6 expected until ('' = none), 7 created_at (µs), 8 until (µs,
--       '' = forever), 9 created_by, 10 lockouts, 11 TTL in ms (-1: none),
--       12 IP present ('1'/'0'), 13 IP, 14 username present, 15 username,
--       16 user agent present, 17 user agent
-- Returns 1 when written, 0 when the row changed since it was read.
if ARGV[3] == '1' then
  local r = redis.call('HMGET', KEYS[1], 'c', 'l', 'n')
  if (r[1] or '') ~= ARGV[4] then return 0 end
  if r[1] and ((r[2] or '') ~= ARGV[5] or (r[3] or '') ~= ARGV[6]) then return 0 end
end
redis.call('DEL', KEYS[1])
local args = { 'HSET', KEYS[1], 'c', ARGV[7], 'b', ARGV[9], 'l', ARGV[10] }
local function put(field, value)
  args[#args + 1] = field
  args[#args + 1] = value
end
if ARGV[8] ~= '' then put('n', ARGV[8]) end
if ARGV[12] == '1' then put('i', ARGV[13]) end
if ARGV[14] == '1' then put('u', ARGV[15]) end
if ARGV[16] == '1' then put('a', ARGV[17]) end
redis.call(unpack(args))
local ttl = tonumber(ARGV[11])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[1])
-- Sweep: look at three members from a cursor that goes round the index
-- and drop those whose row has expired. A write adds at most one member,
-- so every stale member is met within a round and the index stays within
-- a small factor of the live rows, even when the oldest rows never expire.
local size = redis.call('ZCARD', KEYS[2])
local at = tonumber(redis.call('GET', KEYS[3])) or 0
if at >= size then at = 0 end
local seen = redis.call('ZRANGE', KEYS[2], at, at + 2)
local dropped = 0
for _, m in ipairs(seen) do
  if m ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. m) == 0 then
    redis.call('ZREM', KEYS[2], m)
    dropped = dropped + 1
  end
end
-- at the end of the index (where new members land), start again at the oldest
local next_at = at + #seen - dropped
if #seen < 3 then next_at = 0 end
redis.call('SET', KEYS[3], next_at)
return 1
