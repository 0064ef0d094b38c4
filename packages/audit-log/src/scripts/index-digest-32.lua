--[[
  Folds a page of each of up to 32 index streams into a 32-bit digest of its (id, seq) pairs,
  server-side, so verify compares every index with the log without reading index entries over
  the network. The same fold runs in TypeScript over the log:
  h = rol(h, 5) xor seq xor ms xor (idSeq << 16), in 32-bit two's complement (Lua's bit library).
  Only entries up to the end bound are folded; the stream's newest id is reported, so entries
  past the chain head (that no record wrote) are found too.

  KEYS[1..32]  index streams (entries: s <seq> a <action>); slots past ARGV[2] repeat a used key
  ARGV[1]      how many entries to read per stream at most
  ARGV[2]      how many of the keys are used (1..32)
  ARGV[3]      the end id (the chain head's id when verify started)
  ARGV[4..]    2 per used key: the start bound ("-" or "(<last id read>") and the digest so far

  Reply:       per used key {count folded, digest, last id read or "" when the stream is done, newest id seen}
]]
--@include "compare-ids.lua"

local bxor, rol, tobit, lshift = bit.bxor, bit.rol, bit.tobit, bit.lshift
local limit = tonumber(ARGV[1])
local used = tonumber(ARGV[2])
local stop = ARGV[3]
local out = {}
for k = 1, used do
  local entries = redis.call("XRANGE", KEYS[k], ARGV[2 + 2 * k], "+", "COUNT", limit)
  local h = tobit(tonumber(ARGV[3 + 2 * k]) or 0)
  local folded = 0
  local newest = ""
  local n = #entries
  -- Ids increase: when the last one is within the end bound, so is every one before it.
  local cut = n
  if n > 0 then
    newest = entries[n][1]
    if compare_ids(newest, stop) > 0 then
      cut = 0
      while cut < n and compare_ids(entries[cut + 1][1], stop) <= 0 do cut = cut + 1 end
    end
  end
  for i = 1, cut do
    local entry = entries[i]
    local fields = entry[2]
    local seq
    if fields[1] == "s" then
      seq = tonumber(fields[2]) or 0
    else
      seq = 0
      for j = 1, #fields, 2 do
        if fields[j] == "s" then seq = tonumber(fields[j + 1]) or 0 end
      end
    end
    local ms, sq = string.match(entry[1], "^(%d+)-(%d+)$")
    h = bxor(rol(h, 5), tobit(seq), tobit(tonumber(ms)), lshift(tobit(tonumber(sq)), 16))
  end
  folded = cut
  local past = cut < n
  local more = (#entries >= limit and not past) and newest or ""
  out[k] = {folded, h, more, newest}
end
return out
