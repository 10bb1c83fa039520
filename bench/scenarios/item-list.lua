-- item-list: GET /api/v1/items?limit=20, the catalog's first page (20 rows and a next cursor).
local requests
function init(args) requests = list_items_requests() end
function request() return requests[1] end
