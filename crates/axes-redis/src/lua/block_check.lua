-- block_check: the block look-up of reserve.lua and failures.lua
-- (prepended to count.lua); defines axes_refusing_block().
--
-- KEYS 7…: the block rows to look at, any number (none: no look-up at
-- all). The caller passes, for each candidate target, its manual row then
-- its lockout row; or, for a manual-only look-up, its manual row alone. The
-- script treats every row alike and answers a position, which the caller
-- maps back to its target and kind. ARGV[3]: now (µs).
-- axes_refusing_block() answers nil when no row refuses at now (no until,
-- or until > now), else, for the one that lasts longest,
-- { -1, its position among KEYS 7… (1-based), created_at (µs),
--   until (µs, '' = forever), created_by, lockouts }.
local function axes_refusing_block()
  local block_now = tonumber(ARGV[3])
  local best, best_j, best_until = nil, nil, nil
  for j = 7, #KEYS do
    local r = redis.call('HMGET', KEYS[j], 'c', 'n', 'b', 'l')
    if r[1] then
      -- an until that is not a number reads as forever: refuse rather than admit
      local u = nil
      if r[2] then u = tonumber(r[2]) end
      if u == nil or u > block_now then
        if best == nil or (best_until ~= nil and (u == nil or u > best_until)) then
          best, best_j, best_until = r, j, u
        end
      end
    end
  end
  if best == nil then return nil end
  return { -1, best_j - 6, best[1], best[2] or '', best[3] or '', best[4] or '0' }
end
