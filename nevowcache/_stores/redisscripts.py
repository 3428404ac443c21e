# -*- test-case-name: tests.test_sharedwire,tests.test_stores -*-
"""
The Lua scripts a L{RedisStore} runs for the writes that depend on what is
stored: Redis runs each atomically.  A store compares the generations (and
those of the scopes its entry's stamp names) and writes the entry in one
step, so that an entry rendered before an invalidation is never written
after it; an invalidation draws a generation and rewrites a record in one
step; a lease is released only by its holder.  Each announces its change
to near tiers (L{nevowcache._stores.coherence}) in the same step.
"""

from __future__ import absolute_import, division

__all__ = ["BUMP_SCRIPT", "RELEASE_SCRIPT", "STORE_SCRIPT"]

# KEYS: entry, URL record, clear record, then scope records.  ARGV: value,
# fenced ("1" or "0"), clear generation, URL generation, expiry seconds ("0":
# none), the events channel and the event to publish once written
# (nevowcache._stores.coherence), then the stamped generation of each scope record
# ("0": none).
STORE_SCRIPT = b"""
local function generation(record)
  if not record then return '0' end
  return string.match(record, '^(%d+) %d+ ')
end
if ARGV[2] == '1' then
  if generation(redis.call('GET', KEYS[3])) ~= ARGV[3]
      or generation(redis.call('GET', KEYS[2])) ~= ARGV[4] then
    return 0
  end
  for i = 4, #KEYS do
    if generation(redis.call('GET', KEYS[i])) ~= ARGV[i + 4] then
      return 0
    end
  end
end
if ARGV[5] ~= '0' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1
"""

# KEYS: record, counter.  ARGV: hard ("1" or "0"), tag, counter seed,
# expiry seconds ("0": none), the events channel and the event to publish.
# The generation drawn is always above the record's own: a counter lost on
# its own (evicted) and seeded again below it (from a clock it had run
# ahead of) is set to the generation given instead, so that a record's
# generation only ever goes up, and a floor raised to it is above every
# stamp made under it.
BUMP_SCRIPT = b"""
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], ARGV[3])
end
local drawn = redis.call('INCR', KEYS[2])
local old = redis.call('GET', KEYS[1])
local current = old and tonumber(string.match(old, '^(%d+) '))
if current and drawn <= current then
  drawn = current + 1
  redis.call('SET', KEYS[2], string.format('%d', drawn))
end
local generation = string.format('%d', drawn)
local floor = '0'
if old then
  floor = string.match(old, '^%d+ (%d+) ') or generation
end
if ARGV[1] == '1' then floor = generation end
local record = generation .. ' ' .. floor .. ' ' .. ARGV[2]
if ARGV[4] ~= '0' then
  redis.call('SET', KEYS[1], record, 'EX', ARGV[4])
else
  redis.call('SET', KEYS[1], record)
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return generation
"""

# KEYS: lease.  ARGV: token.
RELEASE_SCRIPT = b"""
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
