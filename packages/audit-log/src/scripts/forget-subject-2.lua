--[[
  Deletes the encryption key of one PII subject, unless the log is on legal hold.

  KEYS[1]   the meta hash (field legalHold)
  KEYS[2]   the subject keys hash
  ARGV[1]   the subject reference

  Reply:    1 when a key was deleted, 0 when there was none; {"HOLD"} when on legal hold
]]
if redis.call("HGET", KEYS[1], "legalHold") == "1" then
  return {"HOLD"}
end
return redis.call("HDEL", KEYS[2], ARGV[1])
