--[[
  Rebuilds every rollup level of a time series from its raw samples, in one atomic call.
  When the raw stream was never trimmed, each level is recomputed whole. When it was (retention),
  the buckets before the first one that starts after the oldest raw sample are kept as they are
  (raw data can no longer tell them), and every later bucket is recomputed.

  KEYS[1]    the raw stream
  KEYS[2]    the meta hash
  KEYS[3..]  one stream per rollup level
  ARGV[1]    F, the number of fields (the raw entries hold them in order, as add-samples writes them)
  ARGV[2..]  per level: bucketMs, retentionMs

  Reply:     { raw samples read, closed buckets written }
]]
local raw, meta = KEYS[1], KEYS[2]
local F = tonumber(ARGV[1])

--@include "rollup.lua"

local L = #KEYS - 2
local first = nil
local trimmed = false
if redis.call("EXISTS", raw) == 1 then
  local info = redis.call("XINFO", "STREAM", raw)
  local length, added
  for i = 1, #info, 2 do
    if info[i] == "length" then length = info[i + 1] end
    if info[i] == "entries-added" then added = info[i + 1] end
  end
  trimmed = added ~= nil and length ~= nil and added > length
  local head = redis.call("XRANGE", raw, "-", "+", "COUNT", 1)
  if head[1] then first = tonumber(string.match(head[1][1], "^(%d+)")) end
end

local levels = {}
local from = nil
local written = 0
for j = 1, L do
  local lv = new_level(KEYS[2 + j], tonumber(ARGV[2 * j]), tonumber(ARGV[2 * j + 1]), F)
  local keep_before = nil
  if trimmed and first then keep_before = first - (first % lv.b) + lv.b end
  if keep_before then
    -- Keep the closed buckets before keep_before: copy them, recreate the stream (XDEL would not
    -- lower its last id), and keep the open bucket too when it is older.
    local kept = redis.call("XRANGE", lv.key, "-", "(" .. int_text(keep_before) .. "-0")
    redis.call("DEL", lv.key)
    for e = 1, #kept do
      local entry = kept[e]
      redis.call("XADD", lv.key, entry[1], unpack(entry[2]))
      lv.top = tonumber(string.match(entry[1], "^(%d+)"))
    end
    load_open(lv, redis.call("HGET", meta, lv.field))
    if lv.start and lv.start >= keep_before then
      lv.start = nil
      lv.n = 0
    end
  else
    redis.call("DEL", lv.key)
    keep_before = 0
  end
  lv.from = keep_before
  if not from or keep_before < from then from = keep_before end
  levels[j] = lv
end

local read = 0
local last = nil
if first and L > 0 then
  local cursor = int_text(from) .. "-0"
  local nums, texts = {}, {}
  while true do
    local page = redis.call("XRANGE", raw, cursor, "+", "COUNT", 1000)
    if #page == 0 then break end
    for e = 1, #page do
      local id, fields = page[e][1], page[e][2]
      local ts = tonumber(string.match(id, "^(%d+)"))
      for k = 1, F do
        local text = fields[2 * k]
        texts[k] = text
        nums[k] = tonumber(text)
      end
      for j = 1, L do
        local lv = levels[j]
        if ts >= lv.from then
          local before = lv.top
          accumulate(lv, ts, nums, texts)
          if lv.top ~= before then written = written + 1 end
        end
      end
      read = read + 1
      last = ts
    end
    if #page < 1000 then break end
    cursor = "(" .. page[#page][1]
  end
end
if not last then
  local top = top_ms(raw)
  last = top
end
if last then redis.call("HSET", meta, "last", int_text(last)) end
save_levels(meta, levels)
return { read, written }
