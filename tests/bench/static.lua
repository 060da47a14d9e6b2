-- static.lua: the HTTP ceiling: nginx serving a static file the size of a
-- 50-row protobuf search answer (land.sh writes it). Same report as the rest.
dofile(os.getenv("BENCH_LUA_DIR") .. "/wrk_common.lua")

function init(args)
	wrk.headers["Accept"] = "application/x-protobuf"
end
