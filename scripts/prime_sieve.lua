-- prime_sieve.lua: the classic concurrent prime sieve (from the Go tour).
--
-- Run it with:   lugo scripts/prime_sieve.lua
--
-- A generator sends 2, 3, 4, ... down a channel. Each prime found adds a
-- filter goroutine to the chain that drops the multiples of that prime;
-- whatever reaches the end of the chain is the next prime.
--
--   generate --> filter(2) --> filter(3) --> filter(5) --> ... --> main

-- Sends 2, 3, 4, ... forever.
local function generate(out)
  local i = 2
  while true do
    out:send(i)
    i = i + 1
  end
end

-- Copies values from `input` to `out`, dropping multiples of `prime`.
local function filter(input, out, prime)
  while true do
    local i = input:recv()
    if i % prime ~= 0 then out:send(i) end
  end
end

local ch = chan()
go(generate, ch)
local primes = {}
for _ = 1, 25 do
  local prime = ch:recv()
  primes[#primes + 1] = prime
  local next_ch = chan()
  go(filter, ch, next_ch, prime)
  ch = next_ch
end
print("the first 25 primes:")
print(table.concat(primes, " "))

-- The generator and filters are still blocked, waiting to send their next
-- values. That's fine: when main ends, the program ends.
