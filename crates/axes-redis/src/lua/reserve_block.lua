-- reserve_block: a reservation a block refuses stops here, before anything
-- is counted or written; the reply is axes_refusing_block()'s alone.
do
  local refusing = axes_refusing_block()
  if refusing then return refusing end
end
