-- block_delete: one batch of reset_blocks or purge_blocks over one kind.
--
-- KEYS: 1 the kind's index (members by created_at)
-- ARGV: 1 row key prefix of the kind, 2 start rank, 3 batch size,
--       4 highest score looked at ('+inf' or µs), 5 mode ('r' reset: rows
--       whose target falls under the filter; 'p' purge: rows with an until
--       at or before now, and (lockout rows) at or before `forget before`:
--       the memory runs from the end of the latest lockout), 6 IP given ('1'/'0'), 7 IP, 8 username given, 9 username,
--       10 now (µs), 11 forget before (µs; '' = no condition)
-- Looks at the members scored up to ARGV[4] with rank start … start+batch-1
-- (oldest first), deletes the matching rows and drops members whose row is
-- gone. Returns { deleted, next start rank, done (1/0) }.
local idx, prefix = KEYS[1], ARGV[1]
local start, batch = tonumber(ARGV[2]), tonumber(ARGV[3])
local now = tonumber(ARGV[10])
local forget = tonumber(ARGV[11])
local members = redis.call('ZRANGEBYSCORE', idx, '-inf', ARGV[4], 'LIMIT', start, batch)
local done = #members < batch
local deleted, kept = 0, 0
for _, m in ipairs(members) do
  local row = prefix .. m
  local v = redis.call('HMGET', row, 'c', 'n', 'i', 'u')
  if not v[1] then
    redis.call('ZREM', idx, m)
  else
    local hit
    if ARGV[5] == 'r' then
      hit = (ARGV[6] ~= '1' or v[3] == ARGV[7]) and (ARGV[8] ~= '1' or v[4] == ARGV[9])
    else
      local u = nil
      if v[2] then u = tonumber(v[2]) end
      hit = u ~= nil and u <= now and (forget == nil or u <= forget)
    end
    if hit then
      redis.call('DEL', row)
      redis.call('ZREM', idx, m)
      deleted = deleted + 1
    else
      kept = kept + 1
    end
  end
end
return { deleted, start + kept, done and 1 or 0 }
