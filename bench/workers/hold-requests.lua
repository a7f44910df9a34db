-- wrk script for the http-holds scenario (bench/scenarios/http-holds.ts):
-- each request is the shop's hold, POST /api/events/:id/reservations, one
-- seat of one ticket type, with a buyer's bearer token and an Idempotency-Key
-- of its own (HoldClient sends one per hold). Buyers' tokens are read from a
-- file, one per line; thread n of N takes every Nth, and its requests take
-- turns among them. At the end, one JSON line on stdout: the answers by
-- status, latency percentiles in microseconds, wrk's counts and errors.
--
-- wrk -s hold-requests.lua URL -- <tokens file> <event id> <ticket type id> <key prefix> <threads>

local threads = {}
local counter = 1

function setup(thread)
  thread:set("thread_no", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local tokens = {}
local path
local body
local key_prefix
local sent = 0
statuses = {}

function init(args)
  local file = assert(io.open(args[1], "r"))
  local all = {}
  for line in file:lines() do
    if line ~= "" then table.insert(all, line) end
  end
  file:close()
  local total = tonumber(args[5])
  for i = thread_no, #all, total do table.insert(tokens, all[i]) end
  assert(#tokens > 0, "no tokens for thread " .. thread_no)
  path = "/api/events/" .. args[2] .. "/reservations"
  body = '{"items":[{"ticketTypeId":"' .. args[3] .. '","quantity":1}]}'
  key_prefix = args[4] .. "-" .. thread_no .. "-"
end

function request()
  sent = sent + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(sent % #tokens) + 1],
    ["Idempotency-Key"] = key_prefix .. sent,
  }
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for status, n in pairs(s) do total[status] = (total[status] or 0) + n end
  end
  local parts = {}
  for status, n in pairs(total) do table.insert(parts, string.format('"%d":%d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    '{"statuses":{%s},"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"maxUs":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    table.concat(parts, ","), summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
