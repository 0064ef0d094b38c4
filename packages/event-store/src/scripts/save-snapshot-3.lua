--[[
  Stores a snapshot of an aggregate's state, only when it is newer than the stored one and the
  stream still holds that version with that global position (so a snapshot taken before a
  deleteStream never lands on the fresh stream).

  KEYS[1] the snapshot key (hash: v, g, sv, s)
  KEYS[2] the aggregate stream
  KEYS[3] the version key
  ARGV[1] the version the state is at
  ARGV[2] the global position of that version's event
  ARGV[3] the state's schema version
  ARGV[4] the state (JSON)

  Reply: 1 stored, 0 skipped.
]]
local version = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[3]) or '-1')
if version > current then return 0 end
local stored = redis.call('HGET', KEYS[1], 'v')
if stored and tonumber(stored) >= version and redis.call('HGET', KEYS[1], 'sv') == ARGV[3] then return 0 end
local entry = redis.call('XRANGE', KEYS[2], '0-' .. (version + 1), '0-' .. (version + 1))
if #entry == 0 then return 0 end
local fields = entry[1][2]
local position = nil
for i = 1, #fields, 2 do
  if fields[i] == 'g' then position = fields[i + 1] end
end
if position ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'g', ARGV[2], 'sv', ARGV[3], 's', ARGV[4])
return 1
