-- soak.lua: the mix of the memory soak: 80 % investor searches, 15 % fetches
-- by id, 5 % Landkreis overviews (BENCH_TOKEN, BENCH_IDS, BENCH_COUNTIES as in
-- search.lua, byid.lua and overview.lua).
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk_common.lua")

local ids, counties, investor = nil, {}, nil

function init(args)
	bench_seed()
	ids = bench_lines(os.getenv("BENCH_IDS"))
	investor = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
		["Accept"] = "application/x-protobuf" }
	for _, line in ipairs(bench_lines(os.getenv("BENCH_COUNTIES"))) do
		local k, tok = line:match("^(%d+)%s+(%S+)$")
		counties[#counties + 1] = { k, { ["Authorization"] = "Bearer " .. tok,
			["Accept"] = "application/x-protobuf" } }
	end
end

function request()
	local x = math.random(100)
	if x <= 80 then
		return wrk.format("GET", bench_search_path(), investor)
	elseif x <= 95 then
		return wrk.format("GET", "/v1/records/" .. ids[math.random(#ids)], investor)
	end
	local c = counties[math.random(#counties)]
	return wrk.format("GET", "/v1/overview?region=" .. c[1] .. "&group_by=municipality,site_kind",
		c[2])
end
