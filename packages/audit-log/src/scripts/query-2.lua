--[[
  One page of an index query: walks an index stream and returns the log entries it points to, so
  the cost follows the result, not the log.

  KEYS[1]   the index stream (entries: s <seq> a <action>, with the log entry's id)
  KEYS[2]   the log stream
  ARGV[1]   the first bound, as XRANGE (or XREVRANGE when ARGV[5] is "1") takes it
  ARGV[2]   the second bound
  ARGV[3]   how many index entries to walk at most
  ARGV[4]   how many log entries to return at most
  ARGV[5]   "1" for newest first
  ARGV[6..] the actions to keep (none: every action)

  Reply:    {lastWalkedIndexId or "", walkedCount, {{id, fields}, ...}}
]]
local command = ARGV[5] == "1" and "XREVRANGE" or "XRANGE"
local index = redis.call(command, KEYS[1], ARGV[1], ARGV[2], "COUNT", ARGV[3])
local want = tonumber(ARGV[4])
local keep = nil
if #ARGV > 5 then
  keep = {}
  for i = 6, #ARGV do keep[ARGV[i]] = true end
end
local out = {}
local last = ""
local walked = 0
for i = 1, #index do
  local item = index[i]
  last = item[1]
  walked = i
  local fields = item[2]
  local action = nil
  for j = 1, #fields, 2 do
    if fields[j] == "a" then action = fields[j + 1] end
  end
  if keep == nil or (action ~= nil and keep[action]) then
    local found = redis.call("XRANGE", KEYS[2], item[1], item[1])
    if found[1] then out[#out + 1] = found[1] end
    if #out >= want then break end
  end
end
return {last, walked, out}
