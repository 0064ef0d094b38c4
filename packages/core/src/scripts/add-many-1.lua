--[[
  Appends a whole batch of entries to one stream in one call, and trims once at the end.

  KEYS[1]   the stream
  ARGV[1]   the batch, MessagePack: an array of entries, each an array { id, field, value, ... }
            where id is "*" for every entry, or an explicit id ("<ms>-<seq>" or "<ms>-*") for every entry
  ARGV[2]   "1" when the stream must not be created (NOMKSTREAM), else "0"
  ARGV[3]   "1" when the batch carries explicit ids, else "0"
  ARGV[4..] XTRIM arguments to apply after the batch (MAXLEN|MINID [=|~] threshold [LIMIT n]), if any

  Reply:    the array of new ids; false when NOMKSTREAM and the stream does not exist;
            the error "ERR SK_ID_TOO_SMALL <index>" (nothing written) when an explicit id is not
            greater than the stream's last id.
]]
local key = KEYS[1]
local entries = cmsgpack.unpack(ARGV[1])

if ARGV[2] == "1" and redis.call("EXISTS", key) == 0 then
  return false
end

--@include "compare-ids.lua"

if ARGV[3] == "1" and redis.call("EXISTS", key) == 1 then
  -- Check every explicit id before writing the first one, so a bad batch writes nothing.
  local info = redis.call("XINFO", "STREAM", key)
  local last
  for i = 1, #info, 2 do
    if info[i] == "last-generated-id" then last = info[i + 1] end
  end
  local lastMs, lastSeq = split_id(last)
  for i = 1, #entries do
    local ms, seq = split_id(entries[i][1])
    if seq == "*" then
      if compare_u64(ms, lastMs) < 0 then
        return redis.error_reply("ERR SK_ID_TOO_SMALL " .. (i - 1))
      end
      lastMs, lastSeq = ms, nil
    else
      local order = compare_u64(ms, lastMs)
      if order < 0 or (order == 0 and lastSeq ~= nil and compare_u64(seq, lastSeq) <= 0) then
        return redis.error_reply("ERR SK_ID_TOO_SMALL " .. (i - 1))
      end
      lastMs, lastSeq = ms, seq
    end
  end
end

local ids = {}
local xadd = redis.call
for i = 1, #entries do
  local entry = entries[i]
  ids[i] = xadd("XADD", key, unpack(entry))
end

if #ARGV >= 4 then
  redis.call("XTRIM", key, unpack(ARGV, 4))
end
return ids
