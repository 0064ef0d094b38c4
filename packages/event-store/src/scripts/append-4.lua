--[[
  Appends events to one aggregate stream and to its partition of the global log, atomically.

  KEYS[1] the aggregate stream (entry ids 0-<version+1>, so a version range is an id range)
  KEYS[2] the version key: the version of the stream's last event (absent: no stream)
  KEYS[3] the idempotency hash: event id -> "<version> <global position>"
  KEYS[4] the partition of the global log
  ARGV[1] expected version: 'any' | 'no_stream' | 'stream_exists' | '<n>'
  ARGV[2] the stream name (stored with each global-log entry)
  ARGV[3] number of events n, then 5 arguments per event:
          event id, type, data (JSON), metadata (JSON or ''), schema version ('' for none)

  Reply:
    {1, nextVersion, createdNewStream (0|1), position_1 .. position_n}    written
    {2, nextVersion, 0, position_1 .. position_n}                          every id was there: nothing written
    {0, actualVersion}                                                     expected version mismatch (-1: no stream)
  Events whose id the stream already holds are skipped; their stored position is returned.
]]
local current = tonumber(redis.call('GET', KEYS[2]) or '-1')
local n = tonumber(ARGV[3])
local positions = {}
local fresh = {}
local lastSeen = -1
for i = 1, n do
  local seen = redis.call('HGET', KEYS[3], ARGV[3 + (i - 1) * 5 + 1])
  if seen then
    local space = string.find(seen, ' ', 1, true)
    local version = tonumber(string.sub(seen, 1, space - 1))
    positions[i] = string.sub(seen, space + 1)
    if version > lastSeen then lastSeen = version end
  else
    fresh[#fresh + 1] = i
  end
end

if #fresh == 0 then
  local reply = {2, lastSeen, 0}
  for i = 1, n do reply[3 + i] = positions[i] end
  return reply
end

local expected = ARGV[1]
if expected == 'no_stream' then
  if current ~= -1 then return {0, current} end
elseif expected == 'stream_exists' then
  if current == -1 then return {0, current} end
elseif expected ~= 'any' then
  if current ~= tonumber(expected) then return {0, current} end
end

local version = current
for _, i in ipairs(fresh) do
  version = version + 1
  local base = 3 + (i - 1) * 5
  local id, kind, data, meta, schemaVersion = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4], ARGV[base + 5]
  local entry = {'id', id, 't', kind, 'd', data}
  if meta ~= '' then entry[#entry + 1] = 'm'; entry[#entry + 1] = meta end
  if schemaVersion ~= '' then entry[#entry + 1] = 'sv'; entry[#entry + 1] = schemaVersion end
  local position = redis.call('XADD', KEYS[4], '*', 's', ARGV[2], 'v', version, unpack(entry))
  entry[#entry + 1] = 'g'
  entry[#entry + 1] = position
  redis.call('XADD', KEYS[1], '0-' .. (version + 1), unpack(entry))
  redis.call('HSET', KEYS[3], id, version .. ' ' .. position)
  positions[i] = position
end
redis.call('SET', KEYS[2], version)

local reply = {1, version, current == -1 and 1 or 0}
for i = 1, n do reply[3 + i] = positions[i] end
return reply
