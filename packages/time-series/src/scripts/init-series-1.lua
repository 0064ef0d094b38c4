--[[
  Records a series' configuration in its meta hash (creating the series), after checking that the
  stored fields, if any, are the same.

  KEYS[1]   the meta hash
  ARGV[1]   fields, JSON          ARGV[2]  labels, JSON
  ARGV[3]   rollups, JSON         ARGV[4]  raw retention ms    ARGV[5]  out-of-order policy

  Reply:    { labels stored before (JSON) or nil, rollups stored before (JSON) or nil }
  Errors:   "ERR TS_FIELDS <stored fields JSON>" when the series exists with other fields.
]]
local stored = redis.call("HMGET", KEYS[1], "fields", "labels", "rollups")
if stored[1] and stored[1] ~= ARGV[1] then
  return redis.error_reply("ERR TS_FIELDS " .. stored[1])
end
redis.call("HSET", KEYS[1], "fields", ARGV[1], "labels", ARGV[2], "rollups", ARGV[3], "retentionMs", ARGV[4], "outOfOrder", ARGV[5])
return { stored[2], stored[3] }
