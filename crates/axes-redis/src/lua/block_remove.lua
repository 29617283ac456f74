-- block_remove: delete one block row and its index member.
-- KEYS: 1 row hash, 2 the kind's index. ARGV: 1 member.
-- Returns 1 when there was a row, else 0.
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return n
