// Generated from forget-subject-2.lua by scripts/lua-to-ts.mjs. Do not edit.
export const forgetSubject = {
  name: "forgetSubject",
  numberOfKeys: 2,
  lua: "--[[\n  Deletes the encryption key of one PII subject, unless the log is on legal hold.\n\n  KEYS[1]   the meta hash (field legalHold)\n  KEYS[2]   the subject keys hash\n  ARGV[1]   the subject reference\n\n  Reply:    1 when a key was deleted, 0 when there was none; {\"HOLD\"} when on legal hold\n]]\nif redis.call(\"HGET\", KEYS[1], \"legalHold\") == \"1\" then\n  return {\"HOLD\"}\nend\nreturn redis.call(\"HDEL\", KEYS[2], ARGV[1])\n",
} as const;
