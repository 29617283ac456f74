-- failures: the counts, and the refusing block.
-- Returns { truncated (0/1/2, see count.lua), n, (failures, last µs or -1) × n },
-- preceded by axes_refusing_block()'s six values when a block refuses.
local out = axes_refusing_block() or {}
out[#out + 1] = truncated
out[#out + 1] = n_alts
for k = 1, n_alts do
  local last = lasts[k]
  if own_f > 0 and own_t > last then last = own_t end
  out[#out + 1] = sums[k] + own_f
  out[#out + 1] = last
end
return out
