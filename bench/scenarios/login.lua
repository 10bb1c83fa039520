-- login: POST /api/v1/auth/login (JSON) as a random seeded user; argon2 verifies every one.
local requests
function init(args) requests = login_requests() end
function request() return pick(requests) end
