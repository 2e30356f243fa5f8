-- wrk script of `python -m bench.load`.
--
-- Requests go to the paths listed in the file named by WRK_PATHS (one a line), in turn, each
-- thread starting at its own place in the list (after the WRK_START-th path: a run goes on where
-- the one before stopped), each from one of many client addresses. When the run ends, done()
-- writes its numbers as JSON to the file named by WRK_REPORT: requests, seconds, requests per
-- second, bytes, errors by kind (a status error is an answer of 400 or more), latency
-- percentiles in milliseconds and the answers the page cache gave (its X-Cache header: hit or
-- miss).

local threads = {}

function setup(thread)
  thread:set("number", #threads)
  threads[#threads + 1] = thread
end

local paths = {}
local next_index = 0

function init(args)
  for line in io.lines(os.getenv("WRK_PATHS")) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  -- `number` comes from setup(); a prime step spreads the threads' first paths over the list.
  next_index = (tonumber(os.getenv("WRK_START") or "0") + number * 7919) % #paths
end

-- Shoppers come from many addresses, as through the platform's proxy (the server trusts one
-- proxy): each request names one of SHOPPERS client addresses in X-Forwarded-For, so that the
-- API's per-client rate limits count as they would for real shoppers.
local SHOPPERS = 10000

function request()
  next_index = next_index % #paths + 1
  local shopper = math.random(0, SHOPPERS - 1)
  local address = string.format("10.%d.%d.%d", math.floor(shopper / 65536), math.floor(shopper / 256) % 256, shopper % 256)
  return wrk.format("GET", paths[next_index], {["X-Forwarded-For"] = address})
end

-- Each thread counts the page cache's answers in globals of its own, which done() reads through
-- thread:get. Every run counts, the bare endpoint's too (it answers no X-Cache), so that the
-- client does the same work per answer in the runs that are compared: one table lookup.
cache_hits, cache_misses = 0, 0

function response(status, headers, body)
  local cache = headers["X-Cache"]
  if cache == "hit" then
    cache_hits = cache_hits + 1
  elseif cache == "miss" then
    cache_misses = cache_misses + 1
  end
end

local function ms(microseconds)
  return microseconds / 1000
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  local hits, misses = 0, 0
  for _, thread in ipairs(threads) do
    hits = hits + thread:get("cache_hits")
    misses = misses + thread:get("cache_misses")
  end
  local report = io.open(os.getenv("WRK_REPORT"), "w")
  report:write(string.format(
    '{"requests": %.0f, "seconds": %.3f, "requests_per_s": %.2f, "bytes": %.0f, '
      .. '"errors": {"connect": %.0f, "read": %.0f, "write": %.0f, "status": %.0f, '
      .. '"timeout": %.0f}, '
      .. '"latency_ms": {"p50": %.3f, "p95": %.3f, "p99": %.3f, "mean": %.3f, "max": %.3f}, '
      .. '"cache": {"hit": %.0f, "miss": %.0f}}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    ms(latency:percentile(50)), ms(latency:percentile(95)), ms(latency:percentile(99)),
    ms(latency.mean), ms(latency.max), hits, misses
  ))
  report:close()
end
