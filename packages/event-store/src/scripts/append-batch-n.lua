--[[
  Appends to one or more aggregate streams of one global-log partition, atomically per stream:
  concurrent appends of a partition made in the same tick share one call (a group commit).
  The "-n" in the file name: the number of keys varies per call.

  KEYS[1]          the partition of the global log
  KEYS[3r-1..3r+1] for request r: its aggregate stream (entry ids 0-<version+1>, so a version
                   range is an id range), its version key (the version of the stream's last event;
                   absent: no stream), its idempotency hash (event id -> "<version> <position>")
  ARGV[1]          number of requests; then for each request:
                   expected version ('any' | 'no_stream' | 'stream_exists' | '<n>'), stream name,
                   number of events n, then 6 arguments per event: event id, type, data (JSON),
                   metadata (JSON or ''), schema version ('' for none), and '1' when the id came
                   from the caller (checked and recorded for idempotency) or '' when the store
                   generated it (a random UUID cannot repeat: neither checked nor recorded)

  Reply: one entry per request, in order:
    {1, nextVersion, createdNewStream (0|1), position_1 .. position_n}  written
    {2, nextVersion, 0, position_1 .. position_n}                        every id was there: nothing written
    {0, actualVersion}                                                   expected version mismatch (-1: no stream)
  A request's events whose id the stream already holds are skipped; their stored position is
  returned. Requests are applied in order, so two for one stream see each other.
]]
local log = KEYS[1]

local function appendOne(kStream, kVersion, kIds, expected, streamName, n, first)
  local current = tonumber(redis.call('GET', kVersion) or '-1')
  local positions = {}
  local fresh = {}
  local lastSeen = -1
  for i = 1, n do
    local base = first + (i - 1) * 6
    local seen = ARGV[base + 5] == '1' and redis.call('HGET', kIds, ARGV[base])
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
    local base = first + (i - 1) * 6
    local id = ARGV[base]
    local entry = {'id', id, 't', ARGV[base + 1], 'd', ARGV[base + 2]}
    if ARGV[base + 3] ~= '' then entry[#entry + 1] = 'm'; entry[#entry + 1] = ARGV[base + 3] end
    if ARGV[base + 4] ~= '' then entry[#entry + 1] = 'sv'; entry[#entry + 1] = ARGV[base + 4] end
    local position = redis.call('XADD', log, '*', 's', streamName, 'v', version, unpack(entry))
    entry[#entry + 1] = 'g'
    entry[#entry + 1] = position
    redis.call('XADD', kStream, '0-' .. (version + 1), unpack(entry))
    if ARGV[base + 5] == '1' then redis.call('HSET', kIds, id, version .. ' ' .. position) end
    positions[i] = position
  end
  redis.call('SET', kVersion, version)

  local reply = {1, version, current == -1 and 1 or 0}
  for i = 1, n do reply[3 + i] = positions[i] end
  return reply
end

local replies = {}
local a = 2
for r = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a + 2])
  replies[r] = appendOne(KEYS[3 * r - 1], KEYS[3 * r], KEYS[3 * r + 1], ARGV[a], ARGV[a + 1], n, a + 3)
  a = a + 3 + 6 * n
end
return replies
