-- ping_pong.lua: two goroutines hit a ball back and forth over channels.
--
-- Run it with:   lugo scripts/ping_pong.lua
--
-- Only the player holding the ball acts, so the output is in a fixed order
-- even though the players are separate goroutines: each print happens
-- before the send that lets the other player move.
--
-- The ball is a table. Sending a table COPIES it (goroutines share no
-- memory), so each player updates its own copy and sends that on.

local function player(name, inbox, outbox, done, last_hit)
  for ball in inbox:range() do
    ball.hits = ball.hits + 1
    print(name .. " hits the ball (hit " .. ball.hits .. ")")
    if ball.hits == last_hit then
      done:send(ball)          -- game over: give the ball back to main
    else
      outbox:send(ball)
    end
  end
end

local to_ping, to_pong, done = chan(), chan(), chan()
go(player, "ping", to_ping, to_pong, done, 6)
go(player, "pong", to_pong, to_ping, done, 6)

to_ping:send({hits = 0})       -- serve
local ball = done:recv()
to_ping:close()                -- the players' range loops end
to_pong:close()
print("game over after " .. ball.hits .. " hits")
