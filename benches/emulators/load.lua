-- wrk script: one operation (env OP) over things t0..t{N-1}, signed with a fixed
-- SigV4-shaped Authorization header (no server here verifies signatures; the
-- credential scope only selects the plane: `iot` or `iot-jobs-data`).
local op, n = os.getenv("OP"), tonumber(os.getenv("THINGS") or "100")
local function auth(svc)
  return "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/" .. svc ..
    "/aws4_request, SignedHeaders=host;x-amz-date, Signature=" .. string.rep("0", 64)
end
local ops = {
  describe  = { "GET",  "/things/t%d/jobs/job1", "iot", nil },
  startnext = { "PUT",  "/things/t%d/jobs/$next", "iot-jobs-data", "{}" },
  update    = { "POST", "/things/t%d/jobs/job1", "iot-jobs-data", '{"status":"IN_PROGRESS"}' },
  list      = { "GET",  "/jobs/job1/things", "iot", nil },
}
local spec = ops[op] or error("OP must be one of describe startnext update list")
local threads, i = {}, 0
ok = 0

function setup(thread) table.insert(threads, thread) end

function init(args)
  i = math.random(0, n - 1)
  wrk.headers["Authorization"] = auth(spec[3])
  wrk.headers["X-Amz-Date"] = "20260101T000000Z"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  i = (i + 1) % n
  return wrk.format(spec[1], string.format(spec[2], i), nil, spec[4])
end

function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 end
end

function done(summary, latency, requests)
  local good = 0
  for _, t in ipairs(threads) do good = good + t:get("ok") end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d ok=%d secs=%.3f sockerr=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, good, summary.duration / 1e6,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
