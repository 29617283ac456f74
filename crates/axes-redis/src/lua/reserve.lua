-- reserve: count, decide, and add the failure — atomically.
-- KEYS as count.lua (6: the serial counter; 7…: block rows, looked up
-- first by reserve_block.lua, which answers a refusing block instead).
-- Returns { admitted, counted, truncated (0/1/2, see count.lua), generation,
-- serial, previous time (µs or -1), n, (failures, last µs or -1) × n }; the
-- generation, serial and previous time name the failure added (0, 0, -1
-- when none was). counted: 0 nothing, 1 on the attempt's own record, 2 on
-- other records (a refused attempt without a record of its own: no token).
local limit = tonumber(ARGV[7])
local count_when_locked = ARGV[8] == '1'
local ttl = tonumber(ARGV[9])

-- Drops up to `n` of the oldest ids of `key` whose record hash has expired.
local function sweep(key, n)
  local ids = redis.call('ZRANGE', key, 0, n - 1)
  for _, id in ipairs(ids) do
    if id ~= own_id and redis.call('EXISTS', rec_prefix .. id) == 0 then
      redis.call('ZREM', key, id)
    end
  end
end

local locked = false
if limit >= 0 then
  for k = 1, n_alts do
    if sums[k] + own_f >= limit then locked = true end
  end
end

-- The next failure serial. The counter starts at the caller's time in µs
-- (when missing: first use, a wipe, a lost key), so its values keep growing
-- across a restart of the counter and a (generation, serial) pair is never
-- handed out twice.
local function next_serial()
  local counter = KEYS[6]
  if redis.call('EXISTS', counter) == 0 then redis.call('SET', counter, now) end
  return redis.call('INCR', counter)
end

-- A refused attempt is counted on its own record only if it has one: it
-- never creates a record, so a locked client trying new usernames or user
-- agents grows nothing (its failures then go to the newest record of each
-- alternative that locks it, below).
local write = (not locked) or (count_when_locked and own_exists)
local new_f, new_t = own_f, own_t

-- Adds `id` to the index `key` at `now`; an index never expires before any
-- of its records.
local function touch_index(key, id)
  local existed = redis.call('EXISTS', key) == 1
  redis.call('ZADD', key, now, id)
  if ttl > 0 then
    if not existed then
      redis.call('PEXPIRE', key, ttl)
    else
      local p = redis.call('PTTL', key)
      if p >= 0 and p < ttl then redis.call('PEXPIRE', key, ttl) end
    end
  else
    redis.call('PERSIST', key)
  end
end
local generation, serial, previous = 0, 0, -1
if write then
  local rec = KEYS[1]
  serial = next_serial()
  if own_f > 0 then
    -- the count goes on: same generation (a record written before
    -- generations existed starts one here)
    generation = tonumber(redis.call('HGET', rec, 'g')) or serial
    previous = own_t
  else
    -- a new record, or one whose window had passed: a new generation
    generation = serial
  end
  -- a record whose window had passed starts again at one (own_f is 0 then)
  new_f, new_t = own_f + 1, tonumber(now)
  redis.call('HSET', rec, 'f', new_f, 't', now, 'g', generation, 's', serial, 'a', want.a,
    'path', ARGV[17], 'acc', ARGV[18], 'get', ARGV[19], 'post', ARGV[20],
    'ki', KEYS[3], 'ku', KEYS[4], 'ka', KEYS[5])
  if want.u_present then redis.call('HSET', rec, 'u', want.u) end
  if want.i_present then redis.call('HSET', rec, 'i', want.i) end
  -- the default scope writes no scope field and no cross-scope index: its
  -- records look as they did before scopes existed
  if want.sc ~= '' then
    redis.call('HSET', rec, 'sc', want.sc, 'xi', cross_ip, 'xu', cross_user)
  end
  if ttl > 0 then
    redis.call('PEXPIRE', rec, ttl)
  else
    redis.call('PERSIST', rec)
  end
  redis.call('ZADD', KEYS[2], now, own_id)
  for j = 3, 5 do
    touch_index(KEYS[j], own_id)
    sweep(KEYS[j], 1)
  end
  if want.sc ~= '' then
    for _, key in ipairs({ cross_ip, cross_user }) do
      touch_index(key, own_id)
      sweep(key, 1)
    end
  end
  sweep(KEYS[2], 2)
end

-- Refused without a record of its own: one failure more, now, on the newest
-- live record of each alternative that reached the limit (each record once;
-- all of them in the attempt's scope, since the counts read only its records).
local refreshed = {}
if locked and count_when_locked and not own_exists then
  local seen = {}
  for k = 1, n_alts do
    local nw = newests[k]
    if sums[k] >= limit and nw and not seen[nw.id] then
      seen[nw.id] = true
      refreshed[#refreshed + 1] = nw
    end
  end
  for _, nw in ipairs(refreshed) do
    local rec = rec_prefix .. nw.id
    redis.call('HINCRBY', rec, 'f', 1)
    redis.call('HSET', rec, 't', now, 's', next_serial())
    if ttl > 0 then
      redis.call('PEXPIRE', rec, ttl)
    else
      redis.call('PERSIST', rec)
    end
    redis.call('ZADD', KEYS[2], now, nw.id)
    for _, key in ipairs(axes_record_indexes(rec)) do touch_index(key, nw.id) end
  end
end

local counted = 0
if write then counted = 1 elseif #refreshed > 0 then counted = 2 end
local out = { locked and 0 or 1, counted, truncated, generation, serial, previous, n_alts }
for k = 1, n_alts do
  local last = lasts[k]
  local sum = sums[k] + new_f
  if new_f > 0 and new_t > last then last = new_t end
  for _, nw in ipairs(refreshed) do
    if axes_matches(mask_of(k), want, nw.u, nw.i, nw.a) then
      sum = sum + 1
      last = tonumber(now)
    end
  end
  out[#out + 1] = sum
  out[#out + 1] = last
end
return out
