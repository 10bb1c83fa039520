-- order-trickle: POST /api/v1/orders as order-create does, at a bounded rate: each connection waits
-- the script's argument (milliseconds) between an answer and its next order.
local requests, pause
function init(args)
  requests = order_requests()
  pause = tonumber(args[1])
end
function request() return pick(requests) end
function delay() return pause end
