-- Stream ids are unsigned 64-bit pairs, beyond Lua's exact integers, so they are compared as
-- decimal strings: a longer string is larger, equal lengths compare as text.
local function compare_u64(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

local function compare_ids(a, b)
  local da = string.find(a, "-", 1, true)
  local db = string.find(b, "-", 1, true)
  local byMs = compare_u64(string.sub(a, 1, da - 1), string.sub(b, 1, db - 1))
  if byMs ~= 0 then return byMs end
  return compare_u64(string.sub(a, da + 1), string.sub(b, db + 1))
end
