-- release: give back one failure; delete the record at zero.
-- KEYS: 1 record hash, 2 global id set. ARGV: 1 record id.
-- Returns 1 if the record existed, else 0.
local f = redis.call('HGET', KEYS[1], 'f')
if not f then return 0 end
local left = redis.call('HINCRBY', KEYS[1], 'f', -1)
if left <= 0 then axes_delete_record(KEYS[2], KEYS[1], ARGV[1]) end
return 1
