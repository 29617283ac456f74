-- log_delete: delete log rows by member.
-- KEYS: 1 all-rows set. ARGV: 1 row key prefix, 2… members (validated).
-- Returns how many rows existed.
local n = 0
for j = 2, #ARGV do
  local m = ARGV[j]
  local row = ARGV[1] .. m
  if redis.call('EXISTS', row) == 1 then n = n + 1 end
  axes_delete_log_row(KEYS[1], row, m)
end
return n
