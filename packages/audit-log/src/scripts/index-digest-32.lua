--[[
  Folds a page of each of up to 32 index streams into a 32-bit digest of its (id, seq) pairs,
  server-side, so verify compares every index with the log without reading index entries over
  the network. The same fold runs in TypeScript over the log:
  h = rol(h, 5) xor seq xor ms xor (idSeq << 16), in 32-bit two's complement (Lua's bit library).

  KEYS[1..32]  index streams (entries: s <seq> a <action>); slots past ARGV[2] repeat a used key
  ARGV[1]      how many entries to fold per stream at most
  ARGV[2]      how many of the keys are used (1..32)
  ARGV[3]      the end bound (the chain head's id when verify started, or "+")
  ARGV[4..]    2 per used key: the start bound ("-" or "(<last id folded>") and the digest so far

  Reply:       per used key {count, digest, lastId or "", the stream's newest id or ""}
]]
local limit = ARGV[1]
local used = tonumber(ARGV[2])
local out = {}
for k = 1, used do
  local entries = redis.call("XRANGE", KEYS[k], ARGV[2 + 2 * k], ARGV[3], "COUNT", limit)
  local h = bit.tobit(tonumber(ARGV[3 + 2 * k]) or 0)
  local last = ""
  for i = 1, #entries do
    local id = entries[i][1]
    local fields = entries[i][2]
    local seq = 0
    for j = 1, #fields, 2 do
      if fields[j] == "s" then seq = tonumber(fields[j + 1]) or 0 end
    end
    local dash = string.find(id, "-", 1, true)
    local ms = tonumber(string.sub(id, 1, dash - 1))
    local sq = tonumber(string.sub(id, dash + 1))
    h = bit.bxor(bit.rol(h, 5), bit.tobit(seq), bit.tobit(ms), bit.lshift(bit.tobit(sq), 16))
    last = id
  end
  local top = redis.call("XREVRANGE", KEYS[k], "+", "-", "COUNT", 1)[1]
  out[k] = {#entries, h, last, top and top[1] or ""}
end
return out
