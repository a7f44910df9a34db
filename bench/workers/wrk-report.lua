-- Shared by the bench's wrk scripts (hold-requests.lua, queue-joins.lua),
-- which load it first with dofile: it numbers the threads (thread_no, 1 to N,
-- set before each thread's init), counts the answers by status (count(), which
-- a script's own response() calls too), and at the end prints one JSON line on
-- stdout: the answers by status, latency percentiles in microseconds, wrk's
-- counts and errors, and whatever the script's optional global
-- summarize(threads) returns (more "name":value pairs, JSON). share() reads
-- this thread's share of a file of tokens.

local threads = {}
local counter = 1

function setup(thread)
  thread:set("thread_no", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

statuses = {}

-- The non-empty lines of `path`, one per line; thread n of `threads` takes every nth from the nth.
function share(path, threads)
  local file = assert(io.open(path, "r"))
  local all = {}
  for line in file:lines() do
    if line ~= "" then table.insert(all, line) end
  end
  file:close()
  local mine = {}
  for i = thread_no, #all, threads do table.insert(mine, all[i]) end
  assert(#mine > 0, "no tokens for thread " .. thread_no)
  return mine
end

function count(status)
  statuses[status] = (statuses[status] or 0) + 1
end

function response(status, headers, body)
  count(status)
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for status, n in pairs(s) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, string.format('"%d":%d', status, n)) end
  local more = summarize and ("," .. summarize(threads)) or ""
  local e = summary.errors
  io.write(string.format(
    '{"statuses":{%s},"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}%s}\n',
    table.concat(parts, ","), summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, more))
end
