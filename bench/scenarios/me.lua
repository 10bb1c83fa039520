-- me: GET /api/v1/users/me with the bearer token of a random signed-in user.
local requests
function init(args) requests = me_requests() end
function request() return pick(requests) end
