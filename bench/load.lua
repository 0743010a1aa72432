-- wrk script for bench/load.py (issue 8, load). Run with as many threads as connections
-- (wrk -tN -cN): each wrk thread then drives exactly one keep-alive connection with its own
-- Lua state, i.e. it is one client, and every answer is known to belong to the request
-- before it. A client mixes
--   feed GETs of the three calendars it subscribes to (its own and two others, e.g. rooms):
--     two thirds conditional (If-None-Match with the ETag this client last got for that
--     feed, as a calendar client does: 304 while unchanged), all Accept-Encoding: gzip;
--   occurrence queries: one person's or one room's week, or everybody's day;
--   bookings: POST /api/v1/events at a random working-hours slot (201, or 409 on a clash).
--
-- Configuration (written by load.py): CONVENE_LOAD_CONFIG names a file of lines
--   token TOKEN | feed PATH ETAG | person ID | room ID | day YYYY-MM-DD | mix FEED OCC
-- CONVENE_LOAD_THINK_MS (default 0) pauses each client 0..2x that many ms between
-- requests. done() prints "count KIND STATUS N", "latency_us pN VALUE" (all requests, from
-- wrk) and "kind_latency_us KIND pN VALUE" lines (per kind, measured here).
local cfg = {feeds = {}, people = {}, rooms = {}, days = {}}
local token
local mix_feed, mix_occ = 0.6, 0.3
local think_ms = tonumber(os.getenv("CONVENE_LOAD_THINK_MS") or "0")

for line in io.lines(os.getenv("CONVENE_LOAD_CONFIG")) do
  local kind, a, b = line:match("^(%S+)%s+(%S+)%s*(%S*)")
  if kind == "token" then token = a
  elseif kind == "feed" then cfg.feeds[#cfg.feeds + 1] = {path = a, etag = b}
  elseif kind == "person" then cfg.people[#cfg.people + 1] = a
  elseif kind == "room" then cfg.rooms[#cfg.rooms + 1] = a
  elseif kind == "day" then cfg.days[#cfg.days + 1] = a
  elseif kind == "mix" then mix_feed, mix_occ = tonumber(a), tonumber(b)
  end
end

local auth = {["Authorization"] = "Bearer " .. token}
local json_auth = {["Authorization"] = "Bearer " .. token,
                   ["Content-Type"] = "application/json"}
counts = {}      -- global: counts["kind status"] = n, per thread (read by done() via thread:get)
-- Globals lat_KIND = "microseconds,microseconds,...", per thread. Strings, because wrk's
-- thread:get copies tables recursively on the C stack and crashed (SIGSEGV in
-- script_copy_value) on a few thousand entries.
local kinds = {"feed", "feed_cond", "occurrences", "booking"}
for _, k in ipairs(kinds) do _G["lat_" .. k] = "" end

-- A wall clock in microseconds (LuaJIT's ffi: wrk's Lua has no sub-second clock).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } cvn_timespec;
int clock_gettime(int clk, cvn_timespec *tp);
]]
local ts = ffi.new("cvn_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end
local sent_at = 0
local id = 0

function setup(thread)
  thread:set("thread_id", id)
  id = id + 1
  threads = threads or {}
  threads[#threads + 1] = thread
end

local mine = {}  -- the feeds this client is subscribed to (indexes into cfg.feeds)

function init(args)
  math.randomseed(os.time() + (thread_id or 0) * 7919)
  -- Its own calendar (the first feeds are people's) and two others, e.g. rooms it books.
  mine = {(thread_id or 0) % #cfg.feeds + 1, math.random(#cfg.feeds), math.random(#cfg.feeds)}
end

local function pick(t) return t[math.random(#t)] end

local function day_plus(day, n)
  local y, m, d = day:match("(%d+)-(%d+)-(%d+)")
  local t = os.time({year = tonumber(y), month = tonumber(m), day = tonumber(d) + n, hour = 12})
  return os.date("%Y-%m-%d", t)
end

local function booking()
  local day = pick(cfg.days)
  local start = 8 * 60 + 30 * math.random(0, 18)
  local len = 30 * math.random(1, 4)
  local function at(min)
    return string.format("%sT%02d:%02d:00", day, math.floor(min / 60), min % 60)
  end
  local n = math.random(2, 5)
  local seen, att = {}, {}
  while #att < n do
    local p = pick(cfg.people)
    if not seen[p] then
      seen[p] = true
      att[#att + 1] = '{"person":"' .. p .. '"}'
    end
  end
  local body = '{"title":"负载测试会议","start":"' .. at(start) .. '","end":"' ..
    at(start + len) .. '","tz":"Asia/Shanghai","attendees":[' .. table.concat(att, ",") .. ']'
  if math.random() < 0.7 then
    body = body .. ',"room":"' .. pick(cfg.rooms) .. '"'
  end
  return body .. "}"
end

local last_kind, last_feed

-- wrk calls request() just before it writes the request, so sent_at is when it is sent.
request = function()
  sent_at = now_us()
  local r = math.random()
  if r < mix_feed then
    local i = mine[math.random(#mine)]
    local f = cfg.feeds[i]
    last_feed = i
    if math.random() < 2 / 3 then
      last_kind = "feed_cond"
      return wrk.format("GET", f.path, {["If-None-Match"] = f.etag, ["Accept-Encoding"] = "gzip"})
    end
    last_kind = "feed"
    return wrk.format("GET", f.path, {["Accept-Encoding"] = "gzip"})
  elseif r < mix_feed + mix_occ then
    last_kind = "occurrences"
    local day = pick(cfg.days)
    local q
    local s = math.random()
    if s < 0.45 then
      q = "person=" .. pick(cfg.people) .. "&from=" .. day .. "&to=" .. day_plus(day, 6)
    elseif s < 0.9 then
      q = "room=" .. pick(cfg.rooms) .. "&from=" .. day .. "&to=" .. day_plus(day, 6)
    else
      q = "from=" .. day .. "&to=" .. day
    end
    return wrk.format("GET", "/api/v1/occurrences?" .. q, auth)
  end
  last_kind = "booking"
  return wrk.format("POST", "/api/v1/events", json_auth, booking())
end

-- One connection per thread: this answer is to the request last made.
response = function(status, headers, body)
  local name = "lat_" .. last_kind
  _G[name] = _G[name] .. string.format("%d,", now_us() - sent_at)
  local key = last_kind .. " " .. status
  counts[key] = (counts[key] or 0) + 1
  if status == 200 and last_feed ~= nil and (last_kind == "feed" or last_kind == "feed_cond") then
    local etag = headers["ETag"] or headers["etag"] or headers["Etag"]
    if etag then cfg.feeds[last_feed].etag = etag end
  end
  last_feed = nil
end

if think_ms > 0 then
  delay = function()
    return math.random(0, 2 * think_ms)
  end
end

done = function(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  for k, v in pairs(total) do io.write(string.format("count %s %d\n", k, v)) end
  for _, kind in ipairs(kinds) do
    local samples = {}
    for _, t in ipairs(threads) do
      for v in string.gmatch(t:get("lat_" .. kind), "%d+") do samples[#samples + 1] = tonumber(v) end
    end
    table.sort(samples)
    for _, p in ipairs(#samples > 0 and {50, 99} or {}) do
      local i = math.max(1, math.ceil(#samples * p / 100))
      io.write(string.format("kind_latency_us %s p%d %d\n", kind, p, samples[i]))
    end
    if #samples > 0 then
      io.write(string.format("kind_latency_us %s max %d\n", kind, samples[#samples]))
    end
  end
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("latency_us p%s %d\n", p, latency:percentile(p)))
  end
  io.write(string.format("latency_us max %d\n", latency.max))
  io.write(string.format("latency_us mean %.0f\n", latency.mean))
end
