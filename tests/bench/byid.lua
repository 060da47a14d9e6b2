-- byid.lua: GET /v1/records/{id} of random published records, protobuf.
-- BENCH_TOKEN: an investor token; BENCH_IDS: a file of record ids, one a line.
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk_common.lua")

local ids

function init(args)
	bench_seed()
	ids = bench_lines(os.getenv("BENCH_IDS"))
	wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
	wrk.headers["Accept"] = "application/x-protobuf"
end

function request()
	return wrk.format("GET", "/v1/records/" .. ids[math.random(#ids)])
end
