-- Stream id helpers. Ids are unsigned 64-bit pairs, beyond Lua's exact integers, so they are
-- compared as decimal strings: a longer string is larger, equal lengths compare as text.
local function split_id(id)
  local dash = string.find(id, "-", 1, true)
  if not dash then return id, "0" end
  return string.sub(id, 1, dash - 1), string.sub(id, dash + 1)
end

local function compare_u64(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
