-- delete_matching: one batch of a reset, clear or purge.
--
-- KEYS: 1 global id set, 2 source set (the global set or one index)
-- ARGV: 1 record key prefix, 2 start rank, 3 batch size, 4 mask (letters
--       i, u, a; '' matches every record), 5 username present, 6 username,
--       7 IP present, 8 IP, 9 user agent, 10 max time in µs ('' = none:
--       only records whose last failure is at or before it), 11 scope
--       given ('1'/'0': only records of the scope ARGV 12; a clear stays in
--       its scope, resets and purges cover every scope), 12 scope
-- Looks at the ids of the source with rank start … start+batch-1 (oldest
-- first), deletes the matching records and drops stale ids.
-- Returns { deleted, next start rank, done (1/0) }.
local global, src = KEYS[1], KEYS[2]
local rec_prefix = ARGV[1]
local start = tonumber(ARGV[2])
local batch = tonumber(ARGV[3])
local mask = ARGV[4]
local want = {
  u_present = ARGV[5] == '1', u = ARGV[6],
  i_present = ARGV[7] == '1', i = ARGV[8],
  a = ARGV[9],
}
local max_time = tonumber(ARGV[10])
local scope_given, scope = ARGV[11] == '1', ARGV[12]

local r = redis.call('ZRANGE', src, start, start + batch - 1, 'WITHSCORES')
local deleted, kept = 0, 0
local done = #r < 2 * batch
for j = 1, #r, 2 do
  local id, score = r[j], tonumber(r[j + 1])
  if max_time and score > max_time then
    done = true
    break
  end
  local rec = rec_prefix .. id
  local v = redis.call('HMGET', rec, 'f', 't', 'u', 'i', 'a', 'sc')
  if not v[1] then
    redis.call('ZREM', src, id)
    redis.call('ZREM', global, id)
  elseif (max_time == nil or (tonumber(v[2]) or 0) <= max_time)
      and ((not scope_given) or axes_in_scope(scope, v[6]))
      and axes_matches(mask, want, v[3], v[4], v[5]) then
    axes_delete_record(global, rec, id)
    deleted = deleted + 1
  else
    kept = kept + 1
  end
end
return { deleted, start + kept, done and 1 or 0 }
