--[[
  Appends samples to a time series and folds them into every rollup level, in one atomic call.

  KEYS[1]    the raw stream
  KEYS[2]    the meta hash (fields "last" and "o:<bucketMs>", the open bucket of each level)
  KEYS[3..]  one stream per rollup level, in the order of the levels in ARGV
  ARGV[1]    the samples, MessagePack: a flat array of strings ts, v1 .. vF, ts, v1 .. vF, ...
  ARGV[2]    the out-of-order policy: "reject", "drop" or "clamp"
  ARGV[3]    raw retention in ms ("0": keep everything)
  ARGV[4]    F, the number of fields
  ARGV[5 .. 4+F]  the field names
  ARGV[5+F ..]    per level: bucketMs, retentionMs ("0": keep everything)

  Reply:     the ids of the samples, in order (nil for a dropped sample)
  Errors:    "ERR TS_OUT_OF_ORDER <index> <timestamp> <last>" when the policy is "reject" and a
             sample is older than the one before it; checked before anything is written.
]]
local raw, meta = KEYS[1], KEYS[2]
local data = cmsgpack.unpack(ARGV[1])
local policy = ARGV[2]
local raw_retention = tonumber(ARGV[3])
local F = tonumber(ARGV[4])

--@include "rollup.lua"

local stride = F + 1
local count = #data / stride

-- The series' last time: the meta's, or the raw stream's top when larger (or the meta is gone).
local last_text = redis.call("HGET", meta, "last")
local last = last_text and tonumber(last_text) or nil
local raw_top = top_ms(raw)
if raw_top and (not last or raw_top > last) then
  last = raw_top
  last_text = int_text(raw_top)
end

if policy == "reject" then
  local prev, prev_text = last, last_text
  for i = 0, count - 1 do
    local ts_text = data[i * stride + 1]
    local ts = tonumber(ts_text)
    if prev and ts < prev then
      return redis.error_reply("ERR TS_OUT_OF_ORDER " .. i .. " " .. ts_text .. " " .. prev_text)
    end
    prev, prev_text = ts, ts_text
  end
end

local levels = {}
local base_arg = 4 + F
local L = #KEYS - 2
for j = 1, L do
  local lv = new_level(KEYS[2 + j], tonumber(ARGV[base_arg + 2 * j - 1]), tonumber(ARGV[base_arg + 2 * j]), F)
  load_open(lv, redis.call("HGET", meta, lv.field))
  lv.top = top_ms(lv.key)
  levels[j] = lv
end

local args = { "XADD", raw, "" }
for k = 1, F do
  args[2 + 2 * k] = ARGV[4 + k]
end
local nums, texts = {}, {}
local ids = {}
for i = 0, count - 1 do
  local base = i * stride
  local ts_text = data[base + 1]
  local ts = tonumber(ts_text)
  local keep = true
  if last and ts < last then
    if policy == "drop" then
      keep = false
    else
      ts, ts_text = last, last_text
    end
  end
  if keep then
    args[3] = ts_text .. "-*"
    for k = 1, F do
      local text = data[base + 1 + k]
      args[3 + 2 * k] = text
      texts[k] = text
      nums[k] = tonumber(text)
    end
    ids[i + 1] = redis.call(unpack(args))
    last, last_text = ts, ts_text
    for j = 1, L do
      accumulate(levels[j], ts, nums, texts)
    end
  else
    ids[i + 1] = false
  end
end

if last_text then
  redis.call("HSET", meta, "last", last_text)
  if raw_retention > 0 and last - raw_retention > 0 then
    redis.call("XTRIM", raw, "MINID", "~", int_text(last - raw_retention))
  end
end
save_levels(meta, levels)
return ids
