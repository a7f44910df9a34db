-- wrk script for the http-holds scenario (bench/scenarios/http-holds.ts):
-- each request is the shop's hold, POST /api/events/:id/reservations, one
-- seat of one ticket type, with a buyer's bearer token and an Idempotency-Key
-- of its own (HoldClient sends one per hold). Buyers' tokens are read from a
-- file, one per line; thread n of N takes every Nth, and its requests take
-- turns among them. At the end, one JSON line on stdout (wrk-report.lua).
--
-- wrk -s hold-requests.lua URL -- <tokens file> <event id> <ticket type id> <key prefix> <threads>

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk-report.lua")

local tokens
local path
local body
local key_prefix
local sent = 0

function init(args)
  tokens = share(args[1], tonumber(args[5]))
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
