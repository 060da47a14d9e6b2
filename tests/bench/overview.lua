-- overview.lua: the Landkreis overview, GET /v1/overview grouped by
-- municipality and site kind, as the county office of a random Landkreis.
-- BENCH_COUNTIES: a file of "KREIS TOKEN" lines (county tokens).
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk_common.lua")

local counties = {}

function init(args)
	bench_seed()
	for _, line in ipairs(bench_lines(os.getenv("BENCH_COUNTIES"))) do
		local k, tok = line:match("^(%d+)%s+(%S+)$")
		counties[#counties + 1] = { k, { ["Authorization"] = "Bearer " .. tok,
			["Accept"] = "application/x-protobuf" } }
	end
end

function request()
	local c = counties[math.random(#counties)]
	return wrk.format("GET", "/v1/overview?region=" .. c[1] .. "&group_by=municipality,site_kind",
		c[2])
end
