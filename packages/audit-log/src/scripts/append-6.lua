--[[
  Appends one entry to an audit log, only if the chain head is still the previous hash the writer
  hashed against (compare-and-set), and writes the per-actor and per-resource index entries with
  the same id. Nothing is written unless everything is.

  KEYS[1]   the log stream
  KEYS[2]   the head hash (fields hash, seq, id)
  KEYS[3]   the set of index stream keys
  KEYS[4]   the actor's index stream
  KEYS[5]   the resource's index stream
  KEYS[6]   the PII subject keys hash
  ARGV[1]   the previous hash the writer used
  ARGV[2]   the new entry's seq
  ARGV[3]   the new entry's id (explicit, after the head's id)
  ARGV[4]   the new entry's hash
  ARGV[5]   the canonical entry (JSON)
  ARGV[6]   the action (kept in the index entries for filtering)
  ARGV[7]   the PII subject reference, or "" when the entry has no encrypted field
  ARGV[8]   the id of the subject key the writer encrypted with, or ""

  Reply:    {"OK"} when appended;
            {"CONFLICT", headSeq, headHash, headId} when the head moved (nothing written);
            {"DUP"} when this very entry is already the one at its id (a resent command);
            {"KEY"} when the subject key is not the one the writer used (nothing written);
            the error "SK_LOG_AHEAD ..." when the log holds an entry the script did not write
            at or after the new id (nothing written).
]]
local GENESIS = "0000000000000000000000000000000000000000000000000000000000000000"
local head = redis.call("HMGET", KEYS[2], "hash", "seq", "id")
local current = head[1] or GENESIS
local headSeq = head[2] or "0"
if current ~= ARGV[1] then
  if tonumber(headSeq) >= tonumber(ARGV[2]) then
    local found = redis.call("XRANGE", KEYS[1], ARGV[3], ARGV[3])
    if found[1] then
      local fields = found[1][2]
      for i = 1, #fields, 2 do
        if fields[i] == "hash" and fields[i + 1] == ARGV[4] then return {"DUP"} end
      end
    end
  end
  return {"CONFLICT", headSeq, current, head[3] or "0-0"}
end
if tonumber(ARGV[2]) ~= tonumber(headSeq) + 1 then
  return redis.error_reply("ERR SK_BAD_SEQ head is at " .. headSeq .. ", got " .. ARGV[2])
end
if ARGV[7] ~= "" then
  local key = redis.call("HGET", KEYS[6], ARGV[7])
  if not key or string.sub(key, 1, #ARGV[8] + 1) ~= ARGV[8] .. ":" then
    return {"KEY"}
  end
end

local id = ARGV[3]
local actor = redis.pcall("XADD", KEYS[4], id, "s", ARGV[2], "a", ARGV[6])
if type(actor) == "table" and actor.err then
  return redis.error_reply("ERR SK_LOG_AHEAD actor index: " .. actor.err)
end
local resource = redis.pcall("XADD", KEYS[5], id, "s", ARGV[2], "a", ARGV[6])
if type(resource) == "table" and resource.err then
  redis.call("XDEL", KEYS[4], id)
  return redis.error_reply("ERR SK_LOG_AHEAD resource index: " .. resource.err)
end
local entry = redis.pcall("XADD", KEYS[1], id, "seq", ARGV[2], "prev", ARGV[1], "hash", ARGV[4], "entry", ARGV[5])
if type(entry) == "table" and entry.err then
  redis.call("XDEL", KEYS[4], id)
  redis.call("XDEL", KEYS[5], id)
  return redis.error_reply("ERR SK_LOG_AHEAD log: " .. entry.err)
end
redis.call("SADD", KEYS[3], KEYS[4], KEYS[5])
redis.call("HSET", KEYS[2], "hash", ARGV[4], "seq", ARGV[2], "id", id)
return {"OK"}
