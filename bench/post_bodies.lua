-- wrk script: POST the bodies in the file $BENCH_BODIES (one JSON document a line), in turn, to the URL's path.
local requests = {}
local next_request = 1

function init(args)
  local file = assert(io.open(os.getenv("BENCH_BODIES"), "rb"))
  for line in file:lines() do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, line)
    end
  end
  file:close()
end

function request()
  local r = requests[next_request]
  next_request = next_request % #requests + 1
  return r
end
