// Generated from index-counts-32.lua by scripts/lua-to-ts.mjs. Do not edit.
export const indexCounts = {
  name: "indexCounts",
  numberOfKeys: 32,
  lua: "--[[\n  The length and newest id of each of up to 32 index streams: verify's quick index check,\n  compared with the counts and newest ids it sees in the log.\n\n  KEYS[1..32]  index streams; slots past ARGV[1] repeat a used key\n  ARGV[1]      how many of the keys are used (1..32)\n\n  Reply:       per used key {length, newest id or \"\"}\n]]\nlocal out = {}\nfor k = 1, tonumber(ARGV[1]) do\n  local top = redis.call(\"XREVRANGE\", KEYS[k], \"+\", \"-\", \"COUNT\", 1)[1]\n  out[k] = {redis.call(\"XLEN\", KEYS[k]), top and top[1] or \"\"}\nend\nreturn out\n",
} as const;
