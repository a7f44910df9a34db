-- wrk script for the queue scenario's HTTP joins (bench/scenarios/queue-http-joins.ts):
-- in `join` mode each request is a new visitor joining the waiting room,
-- POST /api/events/:id/queue/entries with no body and a bearer token of its
-- own (a distinct `sub` per token, minted beforehand into a file, one per
-- line; thread n of N takes every Nth and sends each once). A request that
-- finds no token left goes without one (a 401) and counts as `exhausted`.
-- Each 201's position is kept, for the scenario to check that they are
-- distinct. In `bare` mode each request is GET /healthz: the baseline.
-- At the end, one JSON line on stdout (wrk-report.lua), with
-- "exhausted":n and "positions":{"count":n,"distinct":n,"min":n,"max":n}
-- (a 201 without a position counts as position 0).
--
-- wrk -s queue-joins.lua URL -- join <tokens file> <event id> <threads>
-- wrk -s queue-joins.lua URL -- bare

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk-report.lua")

-- Mode, this thread's tokens and the join's path; or the /healthz request, prepared once.
local join, tokens, path, bare
local sent = 0
exhausted = 0
positions = {}

function init(args)
  join = args[1] == "join"
  if join then
    tokens = share(args[2], tonumber(args[4]))
    path = "/api/events/" .. args[3] .. "/queue/entries"
  else
    bare = wrk.format("GET", "/healthz")
  end
end

function request()
  if not join then return bare end
  sent = sent + 1
  local token = tokens[sent]
  if token == nil then
    exhausted = exhausted + 1
    return wrk.format("POST", path)
  end
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  count(status)
  if status == 201 then table.insert(positions, tonumber(body:match('"position":(%d+)')) or 0) end
end

function summarize(threads)
  local seen, count, distinct, min, max, exhausted_all = {}, 0, 0, nil, 0, 0
  for _, thread in ipairs(threads) do
    exhausted_all = exhausted_all + thread:get("exhausted")
    for _, p in ipairs(thread:get("positions")) do
      count = count + 1
      if not seen[p] then distinct = distinct + 1; seen[p] = true end
      if p > max then max = p end
      if min == nil or p < min then min = p end
    end
  end
  return string.format('"exhausted":%d,"positions":{"count":%d,"distinct":%d,"min":%d,"max":%d}', exhausted_all, count, distinct, min or 0, max)
end
