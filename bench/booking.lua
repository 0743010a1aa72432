-- wrk script: sequential single-occurrence bookings (3 attendees, a room, a meal),
-- each at a fresh hour so none clashes. Set by booking_bench.py through env:
-- CONVENE_TOKEN, CONVENE_PEOPLE (comma-separated ids), CONVENE_ROOM.
local token = os.getenv("CONVENE_TOKEN")
local room = os.getenv("CONVENE_ROOM")
local people = {}
for id in string.gmatch(os.getenv("CONVENE_PEOPLE"), "[^,]+") do
  people[#people + 1] = '{"person":"' .. id .. '"}'
end
local attendees = "[" .. table.concat(people, ",") .. "]"
local n = 0
local base = 1893456000 -- 2030-01-01T00:00:00, far from other benchmark data

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", t)
end

request = function()
  n = n + 1
  local start = base + n * 3600
  local body = '{"title":"会议","start":"' .. iso(start) .. '","end":"' .. iso(start + 2700) ..
    '","attendees":' .. attendees .. ',"room":"' .. room .. '","meals":[{"meal":"lunch"}]}'
  return wrk.format("POST", "/api/v1/events",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end

local failures = 0
response = function(status, headers, body)
  if status ~= 201 then failures = failures + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("non201 %d\n", failures))
end
