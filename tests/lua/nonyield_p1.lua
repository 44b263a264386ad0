-- nonyield_p1: nonyield.lua with GOMAXPROCS = 1 (see nonyield_p1.args), so
-- every blocked non-yieldable call must hand its only processor to another
-- thread for the feeding goroutines to run at all.
dofile("nonyield.lua")
