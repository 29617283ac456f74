-- Helpers shared by the axes scripts; prepended to each of them.

-- Whether a record with username `ru`, IP `ri` and user agent `ra` (false when
-- the hash lacks the field, i.e. the value is missing) has the values of
-- `want` on every field named in `mask` ('i' IP, 'u' username, 'a' user agent).
local function axes_matches(mask, want, ru, ri, ra)
  if string.find(mask, 'u', 1, true) then
    if want.u_present then
      if ru ~= want.u then return false end
    elseif ru then
      return false
    end
  end
  if string.find(mask, 'i', 1, true) then
    if want.i_present then
      if ri ~= want.i then return false end
    elseif ri then
      return false
    end
  end
  if string.find(mask, 'a', 1, true) and ra ~= want.a then return false end
  return true
end

-- Deletes the attempt record hash `rec` (id `id`) and removes the id from the
-- global set and from the record's indexes (whose names the hash holds).
local function axes_delete_record(global, rec, id)
  local k = redis.call('HMGET', rec, 'ki', 'ku', 'ka')
  redis.call('DEL', rec)
  redis.call('ZREM', global, id)
  for j = 1, 3 do
    if k[j] then redis.call('ZREM', k[j], id) end
  end
end

-- Deletes the log row hash `row` (member `id`) and removes the member from
-- the log's sets (whose names the hash holds).
local function axes_delete_log_row(all, row, id)
  local k = redis.call('HMGET', row, 'ku', 'ki', 'ko')
  redis.call('DEL', row)
  redis.call('ZREM', all, id)
  if k[1] then redis.call('ZREM', k[1], id) end
  if k[2] then redis.call('ZREM', k[2], id) end
  if k[3] then redis.call('SREM', k[3], id) end
end
