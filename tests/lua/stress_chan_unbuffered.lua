-- stress_chan_unbuffered: stress_chan_buffered.lua through an unbuffered
-- channel (every transfer is a rendezvous).
CAPACITY = 0
dofile("stress_chan_buffered.lua")
