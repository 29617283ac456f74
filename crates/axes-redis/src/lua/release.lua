-- release: give back the failure a reservation counted, if the record is
-- still the generation it was counted on; delete the record at zero. Put the
-- record's time back to what it was before the reservation when no failure
-- was counted on it since.
-- KEYS: 1 record hash, 2 global id set. ARGV: 1 record id, 2 generation,
-- 3 serial, 4 the reservation's time (µs), 5 the time before it (µs; ''
-- keeps the time).
-- Returns 1 if a failure was given back, else 0.
local r = redis.call('HMGET', KEYS[1], 'f', 'g', 's', 't')
if not r[1] then return 0 end
-- counters are integers far below 2^53: exact as numbers
if tonumber(r[2]) ~= tonumber(ARGV[2]) then return 0 end
local left = redis.call('HINCRBY', KEYS[1], 'f', -1)
if left <= 0 then
  axes_delete_record(KEYS[2], KEYS[1], ARGV[1])
  return 1
end
-- times are compared and written as the decimal strings they were stored as
if ARGV[5] ~= '' and tonumber(r[3]) == tonumber(ARGV[3]) and r[4] == ARGV[4] then
  redis.call('HSET', KEYS[1], 't', ARGV[5])
  -- the sets are scored by the last failure: the global one and the
  -- record's indexes (whose names the hash holds)
  redis.call('ZADD', KEYS[2], 'XX', ARGV[5], ARGV[1])
  for _, key in ipairs(axes_record_indexes(KEYS[1])) do
    redis.call('ZADD', key, 'XX', ARGV[5], ARGV[1])
  end
end
return 1
