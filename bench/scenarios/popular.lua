-- popular: GET /api/v1/items/popular (the top 10, anonymous); `popular-under-orders` runs it while
-- order-trickle.lua places orders.
local requests
function init(args) requests = { wrk.format("GET", "/api/v1/items/popular") } end
function request() return requests[1] end
