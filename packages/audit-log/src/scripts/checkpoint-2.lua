--[[
  Stores a signed checkpoint, only if the newest stored checkpoint is still the one the new one
  chains to (compare-and-set), and, for a prune checkpoint, only if the log is not on legal hold.

  KEYS[1]   the checkpoint stream (entries: digest <hex> checkpoint <json>)
  KEYS[2]   the meta hash (field legalHold)
  ARGV[1]   the digest of the checkpoint the new one chains to, or "" for the first
  ARGV[2]   the new checkpoint's digest
  ARGV[3]   the new checkpoint (JSON)
  ARGV[4]   "1" for a prune checkpoint

  Reply:    {"OK", id}; {"CONFLICT", digestOfNewest}; {"HOLD"} (nothing written)
]]
if ARGV[4] == "1" and redis.call("HGET", KEYS[2], "legalHold") == "1" then
  return {"HOLD"}
end
local newest = redis.call("XREVRANGE", KEYS[1], "+", "-", "COUNT", 1)
local digest = ""
if newest[1] then
  local fields = newest[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == "digest" then digest = fields[i + 1] end
  end
end
if digest ~= ARGV[1] then
  return {"CONFLICT", digest}
end
local id = redis.call("XADD", KEYS[1], "*", "digest", ARGV[2], "checkpoint", ARGV[3])
return {"OK", id}
