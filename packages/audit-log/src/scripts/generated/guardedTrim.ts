// Generated from guarded-trim-2.lua by scripts/lua-to-ts.mjs. Do not edit.
export const guardedTrim = {
  name: "guardedTrim",
  numberOfKeys: 2,
  lua: "--[[\n  Trims one stream of an audit log (the log or an index) below an id, unless the log is on legal hold.\n\n  KEYS[1]   the meta hash (field legalHold)\n  KEYS[2]   the stream to trim\n  ARGV[1]   the MINID: entries with smaller ids are removed\n\n  Reply:    the number of entries removed; {\"HOLD\"} when on legal hold (nothing removed)\n]]\nif redis.call(\"HGET\", KEYS[1], \"legalHold\") == \"1\" then\n  return {\"HOLD\"}\nend\nreturn redis.call(\"XTRIM\", KEYS[2], \"MINID\", \"=\", ARGV[1])\n",
} as const;
