-- Helpers shared by the axes scripts; prepended to each of them.

-- Whether a record with username `ru`, IP `ri` and user agent `ra` (false when
-- the hash lacks the field, i.e. the value is missing) has the values of
-- `want` on every field named in `mask` ('i' IP, 'u' username, 'a' user agent).
-- The scope is not compared here (see axes_in_scope).
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

-- The names of the indexes the attempt record hash `rec` is in: its scope's
-- IP, username and user-agent indexes (fields ki, ku, ka) and, for a scope
-- other than '', the cross-scope IP and username indexes (xi, xu).
local function axes_record_indexes(rec)
  local k = redis.call('HMGET', rec, 'ki', 'ku', 'ka', 'xi', 'xu')
  local out = {}
  for j = 1, 5 do
    if k[j] then out[#out + 1] = k[j] end
  end
  return out
end

-- Deletes the attempt record hash `rec` (id `id`) and removes the id from the
-- global set and from the record's indexes (whose names the hash holds; an
-- index left empty is gone with it).
local function axes_delete_record(global, rec, id)
  local idx = axes_record_indexes(rec)
  redis.call('DEL', rec)
  redis.call('ZREM', global, id)
  for _, key in ipairs(idx) do redis.call('ZREM', key, id) end
end

-- Whether a record whose scope field is `rsc` (false when absent: the
-- default scope '', as every record written before scopes existed) is in
-- the scope `scope`.
local function axes_in_scope(scope, rsc)
  return (rsc or '') == scope
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
