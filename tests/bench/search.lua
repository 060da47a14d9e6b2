-- search.lua: investor search, GET query-string form, protobuf answers
-- (wrk_common.lua: bench_search_path). BENCH_TOKEN: an investor token.
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk_common.lua")

function init(args)
	bench_seed()
	wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
	wrk.headers["Accept"] = "application/x-protobuf"
end

function request()
	return wrk.format("GET", bench_search_path())
end
