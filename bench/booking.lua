-- wrk script: single-occurrence bookings (3 attendees, a room, a meal), each at a fresh
-- hour so none clashes, over any number of threads and connections. Set by
-- booking_bench.py and group_commit_bench.py through env: CONVENE_TOKEN,
-- CONVENE_PEOPLE (comma-separated ids), CONVENE_ROOM; CONVENE_BASE (optional, Unix
-- seconds of the first hour) keeps runs against one database apart.
local token = os.getenv("CONVENE_TOKEN")
local room = os.getenv("CONVENE_ROOM")
local people = {}
for id in string.gmatch(os.getenv("CONVENE_PEOPLE"), "[^,]+") do
  people[#people + 1] = '{"person":"' .. id .. '"}'
end
local attendees = "[" .. table.concat(people, ",") .. "]"
local n = 0
-- 2030-01-01T00:00:00, far from other benchmark data
local base = tonumber(os.getenv("CONVENE_BASE") or "1893456000")

-- Each wrk thread has its own Lua state and counter: the thread's number (set in setup,
-- in the main state) gives it its own range of 100,000 hours, so no two threads book the
-- same hour.
local all = {}
setup = function(thread)
  thread:set("thread_no", #all)
  all[#all + 1] = thread
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", t)
end

request = function()
  n = n + 1
  local start = base + ((thread_no or 0) * 100000 + n) * 3600
  local body = '{"title":"会议","start":"' .. iso(start) .. '","end":"' .. iso(start + 2700) ..
    '","attendees":' .. attendees .. ',"room":"' .. room .. '","meals":[{"meal":"lunch"}]}'
  return wrk.format("POST", "/api/v1/events",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

failures = 0 -- a global, so that done (in the main state) can read it with thread:get
response = function(status, headers, body)
  if status ~= 201 then failures = failures + 1 end
end

done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(all) do total = total + (t:get("failures") or 0) end
  io.write(string.format("non201 %d\n", total))
  io.write(string.format("latency_p50_ms %.3f\n", latency:percentile(50) / 1000))
  io.write(string.format("latency_p99_ms %.3f\n", latency:percentile(99) / 1000))
end
