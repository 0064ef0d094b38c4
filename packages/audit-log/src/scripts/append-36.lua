--[[
  Appends a batch of up to 16 entries to an audit log, only if the chain head is still the
  previous hash the writer hashed the first one against (compare-and-set), and writes each
  entry's per-actor and per-resource index entries with the same id. All or nothing.

  KEYS[1]   the log stream
  KEYS[2]   the head hash (fields hash, seq, id)
  KEYS[3]   the set of index stream keys
  KEYS[4]   the PII subject keys hash
  KEYS[5..36]  for entry i (1-based): KEYS[3 + 2i] its actor's index stream, KEYS[4 + 2i] its
            resource's index stream; slots past the batch repeat the last entry's keys
  ARGV[1]   the previous hash the writer used for the first entry
  ARGV[2]   the first entry's seq
  ARGV[3]   the first entry's id
  ARGV[4]   the first entry's hash
  ARGV[5]   the entries (1..16), MessagePack: an array of arrays { seq, id (explicit, increasing),
            hash, canonical entry (JSON), action, PII subject reference or "", subject key id or "" }

  Reply:    {"OK"} when appended;
            {"CONFLICT", headSeq, headHash, headId} when the head moved (nothing written);
            {"DUP"} when this very batch is already in the log (a resent command);
            {"KEY", i} when entry i's subject key is not the one the writer used (nothing written);
            the error "SK_LOG_AHEAD ..." when the log or an index holds (or held) an entry the
            script did not write at or after a new id (nothing written).
]]
--@include "compare-ids.lua"

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
local entries = cmsgpack.unpack(ARGV[5])
local count = #entries
for i = 1, count do
  local ref = entries[i][6]
  if ref ~= "" then
    local keyId = entries[i][7]
    local key = redis.call("HGET", KEYS[4], ref)
    if not key or string.sub(key, 1, #keyId + 1) ~= keyId .. ":" then
      return {"KEY", i}
    end
  end
end
-- The log's newest entry must be the chain head, and the log must not have generated an id at or
-- after the first new one (an entry someone else added, then deleted): the log XADDs below, which
-- run after the index entries are written, would fail.
local info = redis.pcall("XINFO", "STREAM", KEYS[1])
if info.err then
  if not string.find(info.err, "no such key", 1, true) then return redis.error_reply(info.err) end
else
  local top, generated = nil, "0-0"
  for i = 1, #info, 2 do
    if info[i] == "last-entry" then top = info[i + 1] end
    if info[i] == "last-generated-id" then generated = info[i + 1] end
  end
  if top and top[1] ~= (head[3] or "") then
    return redis.error_reply("ERR SK_LOG_AHEAD the log's newest entry " .. top[1] .. " is not the chain head " .. tostring(head[3]))
  end
  if compare_ids(generated, ARGV[3]) >= 0 then
    return redis.error_reply("ERR SK_LOG_AHEAD the log stream already generated id " .. generated .. ", at or after the new entry " .. ARGV[3])
  end
end

-- Index entries first, undone if one is refused; then the log entries, which cannot fail now.
local written = {}
for i = 1, count do
  local e = entries[i]
  for k = 0, 1 do
    local key = KEYS[3 + 2 * i + k]
    local ok = redis.pcall("XADD", key, e[2], "s", e[1], "a", e[5])
    if type(ok) == "table" and ok.err then
      for j = 1, #written do redis.call("XDEL", written[j][1], written[j][2]) end
      return redis.error_reply("ERR SK_LOG_AHEAD index " .. key .. ": " .. ok.err)
    end
    written[#written + 1] = {key, e[2]}
  end
end
local prev = ARGV[1]
for i = 1, count do
  local e = entries[i]
  redis.call("XADD", KEYS[1], e[2], "seq", e[1], "prev", prev, "hash", e[3], "entry", e[4])
  prev = e[3]
end
local last = entries[count]
redis.call("SADD", KEYS[3], unpack(KEYS, 5, 4 + 2 * count))
redis.call("HSET", KEYS[2], "hash", last[3], "seq", last[1], "id", last[2])
return {"OK"}
