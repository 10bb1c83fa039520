-- Shared by every scenario (`just bench` prepends this file to the scenario's script).
-- Data files come from the bench's seed, in the folder named by the BENCH_DATA environment variable.

-- The lines of a data file, as a list.
function read_lines(name)
  local lines = {}
  for line in io.lines(os.getenv("BENCH_DATA") .. "/" .. name) do
    if line ~= "" then lines[#lines + 1] = line end
  end
  assert(#lines > 0, "no data in " .. name)
  return lines
end

-- A random element of a list.
function pick(list)
  return list[math.random(#list)]
end

-- Requests are built once per thread and picked at random, so Lua costs wrk almost nothing.
POOL_SIZE = 4096
math.randomseed(os.time() + math.floor(os.clock() * 1000000))

function get_item_requests()
  local requests = {}
  for i, id in ipairs(read_lines("items.txt")) do
    requests[i] = wrk.format("GET", "/api/v1/items/" .. id)
  end
  return requests
end

function list_items_requests()
  return { wrk.format("GET", "/api/v1/items?limit=20") }
end

function me_requests()
  local requests = {}
  for i, token in ipairs(read_lines("tokens.txt")) do
    requests[i] = wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = "Bearer " .. token })
  end
  return requests
end

-- One random in-stock item, quantity 1, by a random signed-in user.
function order_requests()
  local items, tokens, requests = read_lines("items.txt"), read_lines("tokens.txt"), {}
  for i = 1, POOL_SIZE do
    local body = '{"lines":[{"item_id":"' .. pick(items) .. '","quantity":1}]}'
    requests[i] = wrk.format("POST", "/api/v1/orders", {
      ["Authorization"] = "Bearer " .. pick(tokens),
      ["Content-Type"] = "application/json",
    }, body)
  end
  return requests
end

-- JSON bodies of seeded users whose password is known.
function login_requests()
  local requests = {}
  for i, body in ipairs(read_lines("logins.txt")) do
    requests[i] = wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
  end
  return requests
end

-- One machine-readable line for the bench (latencies in microseconds; wrk counts status >= 400 as
-- `status` errors, which is every non-2xx answer these scenarios can get).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"status":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
