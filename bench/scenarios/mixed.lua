-- mixed: a shop's traffic per 1000 requests: 560 item reads, 200 catalog pages, 140 `me`,
-- 99 orders and 1 login (logins are rare in real traffic: a token lives 15 minutes and is refreshed
-- without a password; and each costs ~0.25 s of argon2 CPU).
local pools = {}
local WEIGHTS = { {560, "item"}, {200, "list"}, {140, "me"}, {99, "order"}, {1, "login"} }

function init(args)
  pools.item, pools.list, pools.me = get_item_requests(), list_items_requests(), me_requests()
  pools.order, pools.login = order_requests(), login_requests()
end

function request()
  local roll = math.random(1000)
  for _, weight in ipairs(WEIGHTS) do
    if roll <= weight[1] then return pick(pools[weight[2]]) end
    roll = roll - weight[1]
  end
end
