-- item-get: GET /api/v1/items/{id} for a random seeded item (anonymous).
local requests
function init(args) requests = get_item_requests() end
function request() return pick(requests) end
