#!/usr/bin/env python3
"""check.py KIND FILE -- check a trace written by `lugo -trace FILE.json`.

KIND names the program that made it (see run.sh): pingpong, panic,
deadlock, mainerror, exit.  Prints what is wrong and exits 1, or exits 0.
"""
import json
import sys

HOST = 9999  # the track of threads that are not Ms (vm/trace.c)
STOPS = {"blocked", "preempted", "gosched", "ended", "panicked", "running", "unknown"}

kind, path = sys.argv[1], sys.argv[2]
errors = []


def need(cond, what):
    if not cond:
        errors.append(what)


with open(path) as f:
    doc = json.load(f)  # raises (and fails the test) if it is not JSON

need(doc.get("displayTimeUnit") == "ms", "displayTimeUnit is not ms")
evs = doc["traceEvents"]
other = doc.get("otherData", {})
need(other.get("dropped_events") == 0, "events were dropped: %r" % other.get("dropped_events"))

names = {e["tid"]: e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "thread_name"}
slices = [e for e in evs if e["ph"] == "X"]
inst = [e for e in evs if e["ph"] == "i"]
counter = [e for e in evs if e["ph"] == "C"]

# every event is on a named track; every M track is called M<id>
for e in slices + inst:
    need(e["tid"] in names, "event on a track without a thread_name: %r" % e)
for tid, name in names.items():
    need(tid == HOST or name == "M%d" % tid, "track %d is named %r" % (tid, name))
need(any(t != HOST for t in names), "no M track")

# slices: well formed, and never overlapping on one M
for e in slices:
    a = e["args"]
    need(e["name"] == "G%d" % a["goid"], "slice name %r for goroutine %r" % (e["name"], a["goid"]))
    need(e["ts"] >= 0 and e["dur"] >= 0, "bad times: %r" % e)
    need(a["stop"] in STOPS, "unknown stop %r" % a["stop"])
    need(e["tid"] != HOST, "a slice on the host track: %r" % e)
    if a["stop"] == "blocked":
        need(isinstance(a.get("reason"), str), "blocked without a reason: %r" % e)
bytid = {}
for e in slices:
    bytid.setdefault(e["tid"], []).append(e)
for tid, ss in bytid.items():
    ss.sort(key=lambda e: e["ts"])
    for x, y in zip(ss, ss[1:]):
        need(x["ts"] + x["dur"] <= y["ts"] + 0.001, "overlapping runs on M%d: %r %r" % (tid, x, y))

# the runnable counter
need(len(counter) >= 1, "no runnable counter")
for e in counter:
    need(e["name"] == "runnable goroutines", "counter named %r" % e["name"])
    n = e["args"].get("runnable")
    need(isinstance(n, int) and n >= 0, "bad counter value %r" % n)

ran = {e["args"]["goid"] for e in slices}
stops = {}
for e in slices:
    stops.setdefault(e["args"]["goid"], set()).add(e["args"]["stop"])
spawns = {(e["args"]["goid"], e["args"]["child"]) for e in inst if e["name"] == "spawn"}
reasons = {e["args"]["reason"] for e in inst if e["name"] == "block"}
unblocks = {(e["args"]["goid"], e["args"]["by"]) for e in inst if e["name"] == "unblock"}
for e in inst:
    need(e["name"] in ("spawn", "block", "unblock"), "unknown instant %r" % e["name"])
    need(e.get("s") == "t", "instant without thread scope: %r" % e)
need((0, 1) in spawns, "the host's spawn of goroutine 1 is missing")

if kind == "pingpong":
    need(ran >= {1, 2, 3, 4}, "goroutines without a run: %r" % ({1, 2, 3, 4} - ran))
    for g in (2, 3, 4):
        need((1, g) in spawns, "no spawn instant for goroutine %d" % g)
    for g in (1, 2, 3, 4):
        need("ended" in stops.get(g, ()), "goroutine %d has no run that ended" % g)
    need("sleep" in reasons, "no block instant with reason sleep: %r" % reasons)
    need(reasons & {"chan receive", "chan send"}, "no channel block: %r" % reasons)
    need(any(g == 4 and by == 0 for g, by in unblocks), "the timer's unblock of the sleeper is missing")
    need(any(by in (1, 2, 3) for g, by in unblocks), "no goroutine unblocked another: %r" % unblocks)
    need(any(e["tid"] == HOST for e in inst), "nothing on the host track (timer wake-up)")
elif kind == "deadlock":
    need({"chan receive", "chan send"} <= reasons, "reasons: %r" % reasons)
elif kind == "panic":
    need("panicked" in stops.get(2, ()), "goroutine 2 did not end panicking: %r" % stops)
elif kind == "mainerror":
    need("panicked" in stops.get(1, ()), "main did not end with its error: %r" % stops)
elif kind == "exit":
    need("running" in stops.get(1, ()), "main was not running at os.exit: %r" % stops)
else:
    errors.append("unknown kind " + kind)

if errors:
    for e in errors[:20]:
        print("FAIL %s: %s" % (kind, e))
    sys.exit(1)
print("ok   %s: %d runs, %d instants, %d counter samples, %d tracks" %
      (kind, len(slices), len(inst), len(counter), len(names)))
