-- wrk_common.lua: shared by the bench's wrk scripts (loaded with dofile from
-- BENCH_LUA_DIR). Seeds each thread differently but reproducibly, reads the
-- bench's files, draws the typical investor search, and prints one
-- machine-readable line at the end: requests, duration, bytes, latency
-- percentiles (microseconds), non-2xx answers and socket errors.

local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

-- the lines of a file, as a table (empty when it does not exist)
function bench_lines(path)
	local t = {}
	local f = path and io.open(path, "r")
	if not f then
		return t
	end
	for line in f:lines() do
		if line ~= "" then
			t[#t + 1] = line
		end
	end
	f:close()
	return t
end

function bench_seed()
	math.randomseed(6000 + (tid or 0) * 7919)
end

OBJECT_TYPES = { "OFFICE_PRACTICE", "RETAIL", "HOSPITALITY", "HALL_STORAGE_PRODUCTION",
	"PLOT", "HOUSE", "APARTMENT", "AGRICULTURE_FORESTRY", "PARKING", "LEISURE_COMMERCIAL",
	"INVESTMENT", "OTHER" }

-- the typical investor search: status MARKETED, one object type, a minimum
-- usable area of 0..500 m2, a 0.18 x 0.285 degree box (about 20 x 20 km) with
-- its south-west corner anywhere in Saxony's box (lat 50.17..51.69, lon
-- 11.87..15.04), newest first, 50 rows. pgbench draws the same (land.sh).
function bench_search_path()
	local t = OBJECT_TYPES[math.random(#OBJECT_TYPES)]
	local a = math.random(0, 500)
	local la = math.random(50170, 51510) / 1000
	local lo = math.random(11870, 14755) / 1000
	return string.format("/v1/records?status=MARKETED&object_type=%s&min_usable_area_m2=%d"
		.. "&bbox=%.3f,%.3f,%.3f,%.3f&sort=UPDATED_DESC&page_size=50",
		t, a, la, lo, la + 0.18, lo + 0.285)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d "
		.. "p99_us=%d max_us=%d non2xx=%d errors=%d\n",
		summary.requests, summary.duration, summary.bytes, latency:percentile(50),
		latency:percentile(90), latency:percentile(99), latency.max, e.status,
		e.connect + e.read + e.write + e.timeout))
end
