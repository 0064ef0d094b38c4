--[[
  The length and newest id of each of up to 32 index streams: verify's quick index check,
  compared with the counts and newest ids it sees in the log.

  KEYS[1..32]  index streams; slots past ARGV[1] repeat a used key
  ARGV[1]      how many of the keys are used (1..32)

  Reply:       per used key {length, newest id or ""}
]]
local out = {}
for k = 1, tonumber(ARGV[1]) do
  local top = redis.call("XREVRANGE", KEYS[k], "+", "-", "COUNT", 1)[1]
  out[k] = {redis.call("XLEN", KEYS[k]), top and top[1] or ""}
end
return out
