// Generated from init-series-1.lua by scripts/lua-to-ts.mjs. Do not edit.
export const initSeries = {
  name: "initSeries",
  numberOfKeys: 1,
  lua: "--[[\n  Records a series' configuration in its meta hash (creating the series), after checking that the\n  stored fields, if any, are the same.\n\n  KEYS[1]   the meta hash\n  ARGV[1]   fields, JSON          ARGV[2]  labels, JSON\n  ARGV[3]   rollups, JSON         ARGV[4]  raw retention ms    ARGV[5]  out-of-order policy\n\n  Reply:    { labels stored before (JSON) or nil, rollups stored before (JSON) or nil }\n  Errors:   \"ERR TS_FIELDS <stored fields JSON>\" when the series exists with other fields.\n]]\nlocal stored = redis.call(\"HMGET\", KEYS[1], \"fields\", \"labels\", \"rollups\")\nif stored[1] and stored[1] ~= ARGV[1] then\n  return redis.error_reply(\"ERR TS_FIELDS \" .. stored[1])\nend\nredis.call(\"HSET\", KEYS[1], \"fields\", ARGV[1], \"labels\", ARGV[2], \"rollups\", ARGV[3], \"retentionMs\", ARGV[4], \"outOfOrder\", ARGV[5])\nreturn { stored[2], stored[3] }\n",
} as const;
