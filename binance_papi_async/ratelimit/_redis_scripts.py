"""The Lua scripts of :class:`~binance_papi_async.ratelimit.redis.RedisBudgetStore`.

Each script touches the keys of one *tag* (an IP scope or an account scope) only:
every key name starts with the tag in braces, so on Redis Cluster they share a
slot.  For a tag ``{T}`` the keys are:

* ``{T}:w:<series>:<window>``: the units counted in one window (an integer),
  expiring a while after the window's end;
* ``{T}:procs``: the processes on the tag, a sorted set scored by the server
  time (ms) of their last heartbeat;
* ``{T}:meta``: per process, ``"<P>,<hi>"``: the number of processes it last
  saw (its fallback share is the limit divided by it) and the latest time (ms)
  its last heartbeat may be from (later than the score for an entry restored
  after a reset);
* ``{T}:gen``: a random generation, created with the tag's first heartbeat: a
  different or missing one means Redis lost its data (a restart).

A process whose last heartbeat ``h`` is at least ``lapse`` before the start of a
window may be cut off from Redis and admitting its fallback share there: every
take in that window sets the share aside, while the window starts before
``hi + hold`` (the process gives its share up from then on).
"""

from __future__ import annotations

from typing import Final

#: KEYS: window, procs, meta, gen, the window's claims, the next window's claims.
#: ARGV: want, least, limit, ttl_ms, gen, pid, window_start_ms, lapse_ms, hold_ms.
#: Returns {granted, counted}: -1 granted when the generation differs (a reset);
#: counted includes the shares set aside.
#:
#: Claims make the processes take turns: a take that fails claims ``least`` units of
#: the next window (a hash: pid -> "<order>,<units>", field "#" the order counter).
#: In a window, the units claimed by other processes earlier than this one's claim
#: (all of them, without one) are not free for it; a grant of at least its claim
#: ends the claim.
TAKE: Final = """
if redis.call('GET', KEYS[4]) ~= ARGV[5] then return {-1, 0} end
local me = ARGV[6]
local claims = redis.call('HGETALL', KEYS[5])
local mine, claimed = nil, 0
for i = 1, #claims, 2 do
  if claims[i] == me then
    local o, u = string.match(claims[i + 1], '^(%d+),(%d+)$')
    mine, claimed = tonumber(o), tonumber(u)
  end
end
local ahead = 0
for i = 1, #claims, 2 do
  if claims[i] ~= me and claims[i] ~= '#' then
    local o, u = string.match(claims[i + 1], '^(%d+),(%d+)$')
    if o and (mine == nil or tonumber(o) < mine) then ahead = ahead + tonumber(u) end
  end
end
local limit = tonumber(ARGV[3])
local start = tonumber(ARGV[7])
local hold = tonumber(ARGV[9])
local aside = 0
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', start - tonumber(ARGV[8]))
for _, p in ipairs(lapsed) do
  if p ~= ARGV[6] then
    local m = redis.call('HGET', KEYS[3], p)
    if m then
      local n, hi = string.match(m, '^(%d+),(%-?%d+)$')
      if n and start < tonumber(hi) + hold then
        aside = aside + math.floor(limit / tonumber(n))
      end
    end
  end
end
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local free = limit - aside - used - ahead
local want = tonumber(ARGV[1])
local least = tonumber(ARGV[2])
if free <= 0 or free < least then
  local next = redis.call('HGET', KEYS[6], me)
  if not next then
    local o = redis.call('HINCRBY', KEYS[6], '#', 1)
    redis.call('HSET', KEYS[6], me, o .. ',' .. least)
    redis.call('PEXPIRE', KEYS[6], ARGV[4])
  else
    local o, u = string.match(next, '^(%d+),(%d+)$')
    if tonumber(u) < least then redis.call('HSET', KEYS[6], me, o .. ',' .. least) end
  end
  return {0, used + aside}
end
if want > free then want = free end
redis.call('INCRBY', KEYS[1], want)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if mine ~= nil and want >= claimed then redis.call('HDEL', KEYS[5], me) end
return {want, used + want + aside}
"""

#: KEYS: window.
#: ARGV: amount, ttl_ms, channel, message.  Un-counts, never below 0; wakes the others.
GIVE: Final = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if amount > used then amount = used end
if amount > 0 then
  redis.call('DECRBY', KEYS[1], amount)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return used - amount
"""

#: KEYS: window.  ARGV: amount, ttl_ms, mode ('add': count whatever the limit;
#: 'max': raise the count to at least amount).  Returns the count.
COUNT: Final = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if ARGV[3] == 'add' then
  used = used + amount
elseif amount > used then
  used = amount
else
  return used
end
redis.call('SET', KEYS[1], used, 'PX', ARGV[2])
return used
"""

#: KEYS: procs, meta, gen, then the windows to count fallback units in.
#: ARGV: pid, h_ms, P, expected gen ('' on the first), new gen, seen_after_ms
#: (entries heartbeating since count in P), prune_before_ms, ttl_ms, n_restore,
#: then n_restore triples (pid, h_ms, meta) of peers to restore after a reset
#: (added only where missing),
#: then one amount per window key.
#: Returns {gen, reset (0/1), pid1, h1, meta1, pid2, ...} (the processes seen since
#: seen_after_ms, this one included).
HEARTBEAT: Final = """
local gen = redis.call('GET', KEYS[3])
local reset = 0
if not gen then
  gen = ARGV[5]
  redis.call('SET', KEYS[3], gen)
  if ARGV[4] ~= '' then reset = 1 end
elseif ARGV[4] ~= '' and gen ~= ARGV[4] then
  reset = 1
end
local at = 10
for i = 1, tonumber(ARGV[9]) do
  local p = ARGV[at]
  if redis.call('ZADD', KEYS[1], 'NX', ARGV[at + 1], p) == 1 then
    redis.call('HSET', KEYS[2], p, ARGV[at + 2])
  end
  at = at + 3
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3] .. ',' .. ARGV[2])
for i = 4, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[at])
  redis.call('PEXPIRE', KEYS[i], ARGV[8])
  at = at + 1
end
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[7])
for _, p in ipairs(old) do
  redis.call('ZREM', KEYS[1], p)
  redis.call('HDEL', KEYS[2], p)
end
local seen = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[6], '+inf', 'WITHSCORES')
local out = {gen, reset}
for i = 1, #seen, 2 do
  out[#out + 1] = seen[i]
  out[#out + 1] = seen[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], seen[i]) or ''
end
return out
"""

#: KEYS: procs, meta.  ARGV: pid.  A process leaving for good: it admits nothing more.
LEAVE: Final = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""
