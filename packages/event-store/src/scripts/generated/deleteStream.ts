// Generated from delete-stream-5.lua by scripts/lua-to-ts.mjs. Do not edit.
export const deleteStream = {
  name: "deleteStream",
  numberOfKeys: 5,
  lua: "--[[\n  Soft-deletes an aggregate stream: its events move to an archive key (kept, never read again by\n  the store), its version, idempotency ids and snapshot go. The global log keeps its entries.\n  A later append with 'no_stream' starts a fresh stream at version 0.\n\n  KEYS[1] the aggregate stream\n  KEYS[2] the version key\n  KEYS[3] the idempotency hash\n  KEYS[4] the snapshot key\n  KEYS[5] the archive key the events move to\n  ARGV[1] expected version: 'any' | 'stream_exists' | '<n>'\n\n  Reply: {1, lastVersion} deleted, {0, actualVersion} mismatch, {-1} there was no stream.\n]]\nlocal current = tonumber(redis.call('GET', KEYS[2]) or '-1')\nlocal expected = ARGV[1]\nif expected ~= 'any' and expected ~= 'stream_exists' and current ~= tonumber(expected) then\n  return {0, current}\nend\nif current == -1 then return {-1} end\nif redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[5]) end\nredis.call('DEL', KEYS[2], KEYS[3], KEYS[4])\nreturn {1, current}\n",
} as const;
