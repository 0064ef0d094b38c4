-- Rollup levels: one stream per level holds closed buckets (entry id "<bucketStart>-0", field
-- "p" = "<n> s1 q1 m1 M1 f1 l1 s2 ...": count, then per field sum, sum of squares, min, max,
-- first, last), and the meta hash field "o:<bucketMs>" holds the open bucket as
-- "<start> <n> s1 q1 m1 M1 f1 l1 s2 ...". Numbers are written with %.17g so they read back exactly.
local function fmt(x)
  return string.format("%.17g", x)
end

local function int_text(x)
  return string.format("%d", x)
end

local function new_level(key, bucket_ms, retention_ms, fields)
  return { key = key, b = bucket_ms, r = retention_ms, field = "o:" .. int_text(bucket_ms), F = fields,
           start = nil, n = 0, s = {}, q = {}, lo = {}, hi = {}, f = {}, l = {}, top = nil }
end

-- Loads the open bucket of a level from its meta text.
local function load_open(lv, text)
  if not text then return end
  local t = {}
  for token in string.gmatch(text, "%S+") do t[#t + 1] = token end
  lv.start = tonumber(t[1])
  lv.n = tonumber(t[2])
  for k = 1, lv.F do
    local o = 2 + (k - 1) * 6
    lv.s[k] = tonumber(t[o + 1]); lv.q[k] = tonumber(t[o + 2])
    lv.lo[k] = tonumber(t[o + 3]); lv.hi[k] = tonumber(t[o + 4])
    lv.f[k] = t[o + 5]; lv.l[k] = t[o + 6]
  end
end

local function open_text(lv)
  local parts = { int_text(lv.start), int_text(lv.n) }
  for k = 1, lv.F do
    parts[#parts + 1] = fmt(lv.s[k]); parts[#parts + 1] = fmt(lv.q[k])
    parts[#parts + 1] = fmt(lv.lo[k]); parts[#parts + 1] = fmt(lv.hi[k])
    parts[#parts + 1] = lv.f[k]; parts[#parts + 1] = lv.l[k]
  end
  return table.concat(parts, " ")
end

-- Writes the open bucket as a closed entry of the level stream: id "<start>-0" ("0-1" for the
-- bucket at the epoch), one field "p"
-- holding "<n> s1 q1 m1 M1 f1 l1 s2 ..." (one field keeps the entry small and the reply cheap).
-- A bucket at or below the stream's top (only possible if the stream was edited by hand) is
-- skipped rather than failing mid-script; rebuild-rollups repairs such a level.
local function flush(lv)
  if lv.top and lv.start <= lv.top then return end
  local parts = { int_text(lv.n) }
  for k = 1, lv.F do
    local i = #parts
    parts[i + 1] = fmt(lv.s[k]); parts[i + 2] = fmt(lv.q[k])
    parts[i + 3] = fmt(lv.lo[k]); parts[i + 4] = fmt(lv.hi[k])
    parts[i + 5] = lv.f[k]; parts[i + 6] = lv.l[k]
  end
  -- 0-0 is not a valid stream id: the bucket at the epoch is stored as 0-1.
  local id = lv.start == 0 and "0-1" or int_text(lv.start) .. "-0"
  redis.call("XADD", lv.key, id, "p", table.concat(parts, " "))
  lv.top = lv.start
end

-- Folds one sample (time ts, numbers nums[k], texts texts[k]) into a level.
local function accumulate(lv, ts, nums, texts)
  local start = ts - (ts % lv.b)
  if lv.start ~= start then
    if lv.start then flush(lv) end
    lv.start = start
    lv.n = 0
  end
  local n = lv.n
  if n == 0 then
    for k = 1, lv.F do
      local v = nums[k]
      lv.s[k] = v; lv.q[k] = v * v; lv.lo[k] = v; lv.hi[k] = v; lv.f[k] = texts[k]; lv.l[k] = texts[k]
    end
  else
    for k = 1, lv.F do
      local v = nums[k]
      lv.s[k] = lv.s[k] + v
      lv.q[k] = lv.q[k] + v * v
      if v < lv.lo[k] then lv.lo[k] = v end
      if v > lv.hi[k] then lv.hi[k] = v end
      lv.l[k] = texts[k]
    end
  end
  lv.n = n + 1
end

local function top_ms(key)
  local top = redis.call("XREVRANGE", key, "+", "-", "COUNT", 1)
  if top[1] then return tonumber(string.match(top[1][1], "^(%d+)")) end
  return nil
end

-- Saves the open buckets and applies each level's retention (relative to its open bucket).
local function save_levels(meta, levels)
  for j = 1, #levels do
    local lv = levels[j]
    if lv.start then
      redis.call("HSET", meta, lv.field, open_text(lv))
      if lv.r > 0 and lv.start - lv.r > 0 then
        redis.call("XTRIM", lv.key, "MINID", "~", int_text(lv.start - lv.r))
      end
    else
      redis.call("HDEL", meta, lv.field)
    end
  end
end
