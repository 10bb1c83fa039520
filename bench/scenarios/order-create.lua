-- order-create: POST /api/v1/orders, one random in-stock item, quantity 1, by a random user.
local requests
function init(args) requests = order_requests() end
function request() return pick(requests) end
