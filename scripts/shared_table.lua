-- shared_table.lua: goroutines working on shared memory instead of
-- messages.
--
-- A frozen table holds the job description: every worker reads it with no
-- copy and no lock.  A shared table collects the results: each worker
-- writes its own key (no race), and the one total they all update is a
-- read-modify-write, so it goes under a Mutex kept in the table itself.
-- A function stored in the table is copied into each goroutine that reads
-- it (loaded once there).  pairs at the end walks a snapshot.
local config = shared.freeze{
  words = {"go", "lua", "channel", "table", "goroutine", "select"},
  weight = {go = 2, lua = 3},
}

local results = shared.table{total = 0, mu = sync.Mutex(), byword = {}}
results.score = function(word, w) return #word * (w or 1) end

local wg = sync.WaitGroup()
for _, word in ipairs(config.words) do
  wg:Go(function()
    local s = results.score(word, config.weight[word])
    results.byword[word] = s              -- its own key: no lock needed
    results.mu:Lock()
    results.total = results.total + s     -- shared: under the Mutex
    results.mu:Unlock()
  end)
end
wg:Wait()

local names = {}
for word in pairs(results.byword) do names[#names + 1] = word end
table.sort(names)
for _, word in ipairs(names) do print(word, results.byword[word]) end
print("total", results.total)

-- nested tables are shared tables themselves, read back by reference
print(shared.type(results), shared.type(results.byword), shared.type(config))
print(results.byword == results.byword)

-- a frozen snapshot of the results: later writes do not change it
local final = shared.freeze(results.byword)
results.byword.go = 0
print(final.go, results.byword.go)
print(pcall(function() config.weight.go = 10 end))
