--[[
  Trims one stream of an audit log (the log or an index) below an id, unless the log is on legal hold.

  KEYS[1]   the meta hash (field legalHold)
  KEYS[2]   the stream to trim
  ARGV[1]   the MINID: entries with smaller ids are removed

  Reply:    the number of entries removed; {"HOLD"} when on legal hold (nothing removed)
]]
if redis.call("HGET", KEYS[1], "legalHold") == "1" then
  return {"HOLD"}
end
return redis.call("XTRIM", KEYS[2], "MINID", "=", ARGV[1])
