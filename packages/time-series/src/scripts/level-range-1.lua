--[[
  Reads the closed buckets of a rollup level as one string, so a day of minutes is one small
  reply instead of thousands of nested ones.

  KEYS[1]   the level stream
  ARGV[1]   start id (inclusive or "(id"), ARGV[2] end id, ARGV[3] COUNT

  Reply:    "<bucketStart> <n> s1 q1 m1 M1 f1 l1 ...\n..." oldest first ("" when none), and the
            number of entries it holds: { text, count }
]]
local entries = redis.call("XRANGE", KEYS[1], ARGV[1], ARGV[2], "COUNT", ARGV[3])
local lines = {}
for i = 1, #entries do
  local id, fields = entries[i][1], entries[i][2]
  lines[i] = string.match(id, "^(%d+)") .. " " .. fields[2]
end
local last = entries[#entries]
return { table.concat(lines, "\n"), #entries, last and last[1] or "" }
