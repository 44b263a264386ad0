-- bank.lua: the Go book's bank account, two ways.
--
-- 1. With a Mutex: the balance lives in an atomic.Int64 (shared), and the
--    Mutex makes each read-check-write one step, so Withdraw never
--    overdraws even when many goroutines withdraw at once.
-- 2. As a monitor goroutine: one goroutine owns the balance (a plain local)
--    and everyone else talks to it over channels, driven by `select`.
--    Nothing is shared; the channels do the synchronising.

-- 1. Mutex ---------------------------------------------------------------
local mu, balance = sync.Mutex(), atomic.Int64(0)

local function deposit(amount)
  mu:With(function() balance:Store(balance:Load() + amount) end)
end

local function withdraw(amount)  -- false if the funds are not there
  return mu:With(function()
    local b = balance:Load()
    if b < amount then return false end
    balance:Store(b - amount)
    return true
  end)
end

deposit(1000)
local wg, ok, refused = sync.WaitGroup(), atomic.Int64(), atomic.Int64()
for _ = 1, 30 do              -- 30 x 50 = 1500 asked for, 1000 there
  wg:Go(function()
    if withdraw(50) then ok:Add(1) else refused:Add(1) end
  end)
end
wg:Wait()
print("mutex:   balance", balance:Load(), "withdrawals", ok:Load(), "refused", refused:Load())

-- 2. monitor goroutine ----------------------------------------------------
local deposits, withdrawals, balances = chan(), chan(), chan()

go(function()                 -- the teller: the only owner of `money`
  local money = 0
  while true do
    select{
      {recv = deposits, function(amount) money = money + amount end},
      {recv = withdrawals, function(req)
        if money >= req.amount then
          money = money - req.amount
          req.reply:send(true)
        else
          req.reply:send(false)
        end
      end},
      {send = balances, value = money},
    }
  end
end)

deposits:send(1000)
local done = sync.WaitGroup()
local okm, refusedm = atomic.Int64(), atomic.Int64()
for _ = 1, 30 do
  done:Go(function()
    local reply = chan()
    withdrawals:send({amount = 50, reply = reply})
    if reply:recv() then okm:Add(1) else refusedm:Add(1) end
  end)
end
done:Wait()
print("monitor: balance", (balances:recv()), "withdrawals", okm:Load(), "refused", refusedm:Load())
