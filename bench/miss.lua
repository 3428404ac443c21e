-- wrk script for the miss benchmark: every request asks for a distinct URL,
-- PATH?r=PREFIX-N, so that every request is a cache miss.
--
--   wrk ... -s bench/miss.lua http://127.0.0.1:PORT/ -- /10k PREFIX
--
-- PREFIX differs between runs (the runner passes a fresh one), so that a
-- later round never finds an earlier round's entries.

local path = "/10k"
local prefix = "0"
local counter = 0
local threads = 0

-- Runs in the main Lua state: give each thread its own number.
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  if args[1] then path = args[1] end
  if args[2] then prefix = args[2] end
end

function request()
  counter = counter + 1
  return wrk.format(nil, path .. "?r=" .. prefix .. "-" .. (tid or 0) .. "-" .. counter)
end
