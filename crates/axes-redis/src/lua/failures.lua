-- failures: the counts only (after block_check.lua, which answers a
-- refusing block instead).
-- Returns { truncated (0/1/2, see count.lua), n, (failures, last µs or -1) × n }.
local out = { truncated, n_alts }
for k = 1, n_alts do
  local last = lasts[k]
  if own_f > 0 and own_t > last then last = own_t end
  out[#out + 1] = sums[k] + own_f
  out[#out + 1] = last
end
return out
