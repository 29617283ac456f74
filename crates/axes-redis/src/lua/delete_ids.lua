-- delete_ids: delete attempt records by id.
-- KEYS: 1 global id set. ARGV: 1 record key prefix, 2… ids (validated).
-- Returns how many records existed.
local n = 0
for j = 2, #ARGV do
  local id = ARGV[j]
  local rec = ARGV[1] .. id
  if redis.call('EXISTS', rec) == 1 then
    axes_delete_record(KEYS[1], rec, id)
    n = n + 1
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return n
