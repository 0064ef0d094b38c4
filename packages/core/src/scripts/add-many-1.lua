--[[
  Appends a whole batch of entries to one stream in one call, and trims once at the end.

  KEYS[1]   the stream
  ARGV[1]   the batch, MessagePack: one flat array of strings, per entry its size n then n strings:
            [id,] field, value, ... The id ("<ms>-<seq>" or "<ms>-*") is there for every entry
            when ARGV[3] is "1", for none otherwise (then every entry gets "*"). Flat, because
            unpacking a table per entry costs more than the XADDs.
  ARGV[2]   "1" when the stream must not be created (NOMKSTREAM), else "0"
  ARGV[3]   "1" when the batch carries explicit ids, else "0"
  ARGV[4..] XTRIM arguments to apply after the batch (MAXLEN|MINID [=|~] threshold [LIMIT n]), if any

  Reply:    the new ids in order, joined by single spaces (one string reads back much faster
            than an array of a thousand); false when NOMKSTREAM and the stream does not exist;
            the error "ERR SK_ID_TOO_SMALL <index>" (nothing written) when an explicit id is not
            greater than the stream's last id.
]]
local key = KEYS[1]
local batch = cmsgpack.unpack(ARGV[1])
local size = #batch

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
  local i, at = 0, 1
  while at <= size do
    local ms, seq = split_id(batch[at + 1])
    i = i + 1
    at = at + 1 + tonumber(batch[at])
    if seq == "*" then
      if compare_u64(ms, lastMs) < 0 then
        return redis.error_reply("ERR SK_ID_TOO_SMALL " .. (i - 1))
      end
      lastMs, lastSeq = ms, nil
    else
      local order = compare_u64(ms, lastMs)
      -- after a "<ms>-*" in the same millisecond the sequence the server picked is unknown: refuse
      if order < 0 or (order == 0 and (lastSeq == nil or compare_u64(seq, lastSeq) <= 0)) then
        return redis.error_reply("ERR SK_ID_TOO_SMALL " .. (i - 1))
      end
      lastMs, lastSeq = ms, seq
    end
  end
end

local ids = {}
local xadd = redis.call
local explicit = ARGV[3] == "1"
local n, at = 0, 1
while at <= size do
  local last = at + tonumber(batch[at])
  n = n + 1
  if explicit then
    ids[n] = xadd("XADD", key, unpack(batch, at + 1, last))
  else
    ids[n] = xadd("XADD", key, "*", unpack(batch, at + 1, last))
  end
  at = last + 1
end

if #ARGV >= 4 then
  redis.call("XTRIM", key, unpack(ARGV, 4))
end
return table.concat(ids, " ")
