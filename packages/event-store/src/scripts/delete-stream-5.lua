--[[
  Soft-deletes an aggregate stream: its events move to an archive key (kept, never read again by
  the store), its version, idempotency ids and snapshot go. The global log keeps its entries.
  A later append with 'no_stream' starts a fresh stream at version 0.

  KEYS[1] the aggregate stream
  KEYS[2] the version key
  KEYS[3] the idempotency hash
  KEYS[4] the snapshot key
  KEYS[5] the archive key the events move to
  ARGV[1] expected version: 'any' | 'stream_exists' | '<n>'

  Reply: {1, lastVersion} deleted, {0, actualVersion} mismatch, {-1} there was no stream.
]]
local current = tonumber(redis.call('GET', KEYS[2]) or '-1')
local expected = ARGV[1]
if expected ~= 'any' and expected ~= 'stream_exists' and current ~= tonumber(expected) then
  return {0, current}
end
if current == -1 then return {-1} end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[5]) end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
return {1, current}
