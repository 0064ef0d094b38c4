// Generated from level-range-1.lua by scripts/lua-to-ts.mjs. Do not edit.
export const levelRange = {
  name: "levelRange",
  numberOfKeys: 1,
  lua: "--[[\n  Reads the closed buckets of a rollup level as one string, so a day of minutes is one small\n  reply instead of thousands of nested ones.\n\n  KEYS[1]   the level stream\n  ARGV[1]   start id (inclusive or \"(id\"), ARGV[2] end id, ARGV[3] COUNT\n\n  Reply:    \"<bucketStart> <n> s1 q1 m1 M1 f1 l1 ...\\n...\" oldest first (\"\" when none), and the\n            number of entries it holds: { text, count }\n]]\nlocal entries = redis.call(\"XRANGE\", KEYS[1], ARGV[1], ARGV[2], \"COUNT\", ARGV[3])\nlocal lines = {}\nfor i = 1, #entries do\n  local id, fields = entries[i][1], entries[i][2]\n  lines[i] = string.match(id, \"^(%d+)\") .. \" \" .. fields[2]\nend\nlocal last = entries[#entries]\nreturn { table.concat(lines, \"\\n\"), #entries, last and last[1] or \"\" }\n",
} as const;
