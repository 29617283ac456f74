-- Counting part of reserve.lua and failures.lua.
--
-- KEYS: 1 record hash, 2 global id set, 3 IP index, 4 username index,
--       5 user-agent index (the indexes of this attempt's values),
--       6 the serial counter (reserve.lua), 7… block rows (block_check.lua)
-- ARGV: 1 record key prefix, 2 record id, 3 now (µs), 4 has window ('1'/'0'),
--       5 cutoff (µs; live means t > cutoff), 6 cutoff as an exclusive range
--       bound ('(…', or '-inf' without window), 7 limit (-1: none),
--       8 count when locked ('1'/'0'), 9 TTL in ms (-1: none), 10 match cap,
--       11 scan cap, 12 username present ('1'/'0'), 13 username,
--       14 IP present ('1'/'0'), 15 IP, 16 user agent, 17 path, 18 accept,
--       19 GET data, 20 POST data, 21 number of alternatives,
--       22 scope ('' the default), 23 cross-scope IP index, 24 cross-scope
--       username index (both '' for the default scope; only reserve.lua
--       writes them), 25… one mask per alternative (letters i, u, a)
--
-- KEYS 1 and 3…5 are the scope's own: the record id and the indexes
-- depend on the scope, so a count reads only that scope's records (and
-- checks the scope of each, besides).
--
-- Times are passed as decimal strings and only compared after tonumber():
-- microsecond timestamps are exact in a double, but Lua's number-to-string
-- conversion (%.14g) is not, so no number is ever concatenated.
local rec_prefix = ARGV[1]
local own_id = ARGV[2]
local now = ARGV[3]
local has_window = ARGV[4] == '1'
local cutoff = tonumber(ARGV[5])
local cutoff_range = ARGV[6]
local match_cap = tonumber(ARGV[10])
local scan_cap = tonumber(ARGV[11])
local want = {
  u_present = ARGV[12] == '1', u = ARGV[13],
  i_present = ARGV[14] == '1', i = ARGV[15],
  a = ARGV[16],
  sc = ARGV[22],
}
local n_alts = tonumber(ARGV[21])
local cross_ip, cross_user = ARGV[23], ARGV[24]
-- the mask of alternative k
local function mask_of(k)
  return ARGV[24 + k]
end
local index_of = { i = KEYS[3], u = KEYS[4], a = KEYS[5] }

local function live(t)
  return (not has_window) or t > cutoff
end

-- The smallest index among the fields of `mask`: every record matching the
-- alternative is in each of them.
local function smallest_index(mask)
  local best, best_n = nil, nil
  for c in string.gmatch(mask, '.') do
    local key = index_of[c]
    if key then
      local n = redis.call('ZCARD', key)
      if best == nil or n < best_n then best, best_n = key, n end
    end
  end
  return best
end

-- Sum and latest time of the live failures of the OTHER records that match
-- the attempt on every field of `mask`, newest first, read in pages. Stops
-- after `match_cap` matching records or `scan_cap` candidates (each record
-- holds at least one failure, so a cap >= limit still decides the lockout).
-- Ids whose hash is gone (expired, evicted) are dropped afterwards, so the
-- paging offsets stay right. The third result is 0 when every candidate
-- was read, 1 when the match cap stopped the count, 2 when the scan cap did.
local function count_others(mask)
  local src = smallest_index(mask)
  if src == nil then return 0, -1, 0, nil end
  local sum, last, matched, scanned = 0, -1, 0, 0
  -- the newest matching record: id and fields
  local newest = nil
  local stale = {}
  local code = 0
  while true do
    if matched >= match_cap then
      code = 1
      break
    end
    if scanned >= scan_cap then
      code = 2
      break
    end
    local n = math.min(128, scan_cap - scanned)
    local ids
    if has_window then
      ids = redis.call('ZREVRANGEBYSCORE', src, '+inf', cutoff_range, 'LIMIT', scanned, n)
    else
      ids = redis.call('ZREVRANGE', src, scanned, scanned + n - 1)
    end
    for _, id in ipairs(ids) do
      if matched >= match_cap then break end
      if id ~= own_id then
        local r = redis.call('HMGET', rec_prefix .. id, 'f', 't', 'u', 'i', 'a', 'sc')
        if not r[1] then
          stale[#stale + 1] = id
        else
          local t = tonumber(r[2]) or 0
          if live(t) and axes_in_scope(want.sc, r[6])
              and axes_matches(mask, want, r[3], r[4], r[5]) then
            if newest == nil or t > newest.t then
              newest = { id = id, t = t, u = r[3], i = r[4], a = r[5] }
            end
            sum = sum + (tonumber(r[1]) or 0)
            if t > last then last = t end
            matched = matched + 1
          end
        end
      end
    end
    scanned = scanned + #ids
    if #ids < n then
      if matched >= match_cap then code = 1 end
      break
    end
  end
  for _, id in ipairs(stale) do
    redis.call('ZREM', src, id)
    redis.call('ZREM', KEYS[2], id)
  end
  return sum, last, code, newest
end

-- This attempt's own record, if live (own_exists: live or not).
local own = redis.call('HMGET', KEYS[1], 'f', 't')
local own_f, own_t = 0, -1
local own_exists = own[1] and true or false
if own[1] then
  local t = tonumber(own[2]) or 0
  if live(t) then own_f, own_t = tonumber(own[1]) or 0, t end
end

local sums, lasts, newests, truncated = {}, {}, {}, 0
for k = 1, n_alts do
  local s, l, tr, nw = count_others(mask_of(k))
  sums[k], lasts[k], newests[k] = s, l, nw
  if tr > truncated then truncated = tr end
end
