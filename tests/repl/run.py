#!/usr/bin/env python3
"""run.py LUGO -- the REPL on a real terminal.

Each case drives `lugo` inside tmux (a pseudo-terminal with a screen we can
read) and asserts on what the screen shows.  Nothing waits a fixed time:
every step waits for the text it expects, with a deadline, and fails with
the screen if the text never comes.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

LUGO = os.path.abspath(sys.argv[1])
DEADLINE = 20.0  # seconds for any one expected text (sanitizer builds are slow)


class Fail(Exception):
    pass


class Term:
    """One lugo on one tmux server of its own (socket name per case)."""

    def __init__(self, name, home, args=()):
        self.sock = "lugo-test-%d-%s" % (os.getpid(), name)
        self.home = home
        self.statusfile = os.path.join(home, "status-" + name)
        cmd = " ".join([LUGO] + list(args))
        env = dict(os.environ, HOME=home, TERM="xterm")
        subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", "new-session", "-d",
                        "-x", "120", "-y", "40", "-s", "t",
                        # the shell ignores the Ctrl-Cs sent to lugo (which
                        # catches them) so that it lives to write the status
                        "sh -c 'trap \"\" INT; %s; echo $? > %s; sleep 600'"
                        % (cmd, self.statusfile)],
                       check=True, env=env)

    def screen(self):
        r = subprocess.run(["tmux", "-L", self.sock, "capture-pane", "-p", "-t", "t"],
                           capture_output=True, text=True)
        return r.stdout

    def lines(self):
        return [l.rstrip() for l in self.screen().splitlines() if l.strip()]

    def type(self, text):
        """literal text, no Enter"""
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", "t", "-l", text], check=True)

    def key(self, *keys):
        """key names: Enter, C-c, C-d, Up, Tab, ..."""
        subprocess.run(["tmux", "-L", self.sock, "send-keys", "-t", "t"] + list(keys), check=True)

    def line(self, text):
        self.type(text)
        self.key("Enter")

    def wait(self, what, count=1, desc=None):
        """wait until `what` (a string, or a predicate on the screen) holds"""
        end = time.time() + DEADLINE
        while True:
            s = self.screen()
            if callable(what):
                if what(s):
                    return s
            elif s.count(what) >= count:
                return s
            if time.time() > end:
                raise Fail("never saw %s (x%d); screen:\n%s" % (desc or repr(what), count, s))
            time.sleep(0.02)

    def ready(self):
        """wait for an empty prompt (tmux drops the trailing space)"""
        return self.wait(lambda s: any(l.rstrip() == ">" for l in s.splitlines()),
                         desc="an empty prompt")

    def cont(self, n=1):
        """wait for n continuation prompts"""
        return self.wait(lambda s: sum(1 for l in s.splitlines() if l.startswith(">>")) >= n,
                         desc="continuation prompt #%d" % n)

    def waitprompt(self, n):
        """wait for the n-th empty prompt line at the bottom"""
        return self.wait(lambda s: self.lines() and self.lines()[-1] == ">" and
                         sum(1 for l in s.splitlines() if l.startswith(">")) >= n,
                         desc="prompt #%d" % n)

    def lastline(self, text):
        return self.wait(lambda s: self.lines() and self.lines()[-1] == text,
                         desc="last line %r" % text)

    def status(self):
        end = time.time() + DEADLINE
        while not os.path.exists(self.statusfile) or not open(self.statusfile).read().strip():
            if time.time() > end:
                raise Fail("lugo did not exit; screen:\n" + self.screen())
            time.sleep(0.02)
        return int(open(self.statusfile).read())

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


def after_prompt(t, cmd, want):
    """type cmd at a fresh prompt, wait for `want` below it and for the
    next prompt (keys typed before it would go to a line still running)"""
    t.line(cmd)
    t.wait(lambda s: want in s.split("> " + cmd, 1)[-1] if ("> " + cmd) in s else False,
           desc="%r after %r" % (want, cmd))
    return t.lastline(">")


# ---------------------------------------------------------------------------
# the cases: each gets a fresh HOME and a fresh lugo

def case_values(t):
    t.ready()
    after_prompt(t, "1 + 1", "\n2\n")
    after_prompt(t, "=2 * 21", "\n42\n")
    t.line("x = 10")
    after_prompt(t, "x, 'two', nil", "10      two     nil")  # tabs, as lua
    after_prompt(t, "error('boom')", "stdin:1: boom")
    t.wait("stack traceback:")
    after_prompt(t, "=x + 1", "\n11\n")  # the session goes on


def case_multiline(t):
    t.ready()
    t.line("function sq(n)")
    t.cont(1)
    t.line("  return n * n")
    t.line("end")
    t.line("s = [[one")  # an open long string continues too
    t.cont(3)
    t.line("two]]")
    t.line("t = {")
    t.cont(4)
    t.line("1, 2,")
    t.line("3}")
    after_prompt(t, "=sq(#t + 4), s", "49      one\ntwo")


def case_background_output(t):
    t.ready()
    t.line("go(function() for i = 1, 40 do time.Sleep(0.05) print('tick ' .. i) end end)")
    t.wait("tick 1")
    t.type("y = 4")  # a partial line; the ticks go on above it
    t.wait("tick 6")
    # the line being typed is redrawn below the output, intact
    t.wait(lambda s: [l.rstrip() for l in s.splitlines() if l.strip()][-1] == "> y = 4"
           and "tick 8" in s, desc="partial line redrawn after tick 8")
    t.key("Enter")
    t.wait("tick 40")
    after_prompt(t, "=y * 10", "\n40\n")


def case_background_error(t):
    t.ready()
    t.line("go(function() local t = nil; return t.field end)")
    t.wait("panic: stdin:1: attempt to index a nil value")
    t.wait(re_goroutine)
    t.wait("stack traceback:")
    after_prompt(t, "='still here'", "\nstill here\n")


def re_goroutine(s):
    return re.search(r"goroutine \d+ \[running\]:", s) is not None


def case_interrupt_busy(t):
    if os.environ.get("LUGO_SANITIZER") == "thread":
        # TSan holds back asynchronous signals until the thread calls into
        # libc, which a pure-Lua loop never does (tests/c/test_host.c)
        print("     (busy loop skipped under TSan)")
        return
    t.ready()
    t.line("n = 0 while true do n = n + 1 end")
    t.wait(lambda s: s.rstrip().endswith("n = 0 while true do n = n + 1 end"),
           desc="the loop running")
    t.key("C-c")
    t.wait("interrupted!")
    after_prompt(t, "=n > 0", "\ntrue\n")


def case_interrupt_recv(t):
    t.ready()
    t.line("c = chan()")
    t.line("v = c:recv()")
    t.wait(lambda s: s.rstrip().endswith("> v = c:recv()"), desc="the recv blocking")
    t.key("C-c")
    t.wait("interrupted!")
    # the channel still works afterwards
    t.line("go(function() c:send('late') end)")
    after_prompt(t, "=c:recv()", "late")


def case_ctrl_c_prompt_and_eof(t):
    t.ready()
    t.type("this is not lua")
    t.wait("> this is not lua")
    t.key("C-c")
    t.wait("^C")
    after_prompt(t, "=7", "\n7\n")  # the garbage was dropped, no syntax error
    assert "syntax error" not in t.screen(), t.screen()
    t.line("for i = 1, 3 do")
    t.cont(1)
    t.key("C-c")  # also drops a half-typed chunk
    # typed before the ^C is handled, "=8" would be dropped with the chunk
    # (TSan holds the signal until the loop's next libc call)
    t.wait(lambda s: s.count("^C") >= 2, desc="the second ^C")
    after_prompt(t, "=8", "\n8\n")
    t.key("C-d")
    if t.status() != 0:
        raise Fail("Ctrl-D: status %d" % t.status())


def case_completion(t):
    t.ready()
    t.line("ch = chan(1)")
    t.type("ch:se")
    t.key("Tab")
    t.wait("> ch:send")
    t.type("(5)")
    t.key("Enter")
    t.type("string.up")
    t.key("Tab")
    t.wait("> string.upper")
    t.key("C-u")
    t.type("pri")
    t.key("Tab")
    t.wait("> print")
    t.type("(ch:recv())")
    t.key("Enter")
    t.wait(lambda s: "\n5       true\n" in s.split("print(ch:recv())", 1)[-1]
           if "print(ch:recv())" in s else False, desc="5 printed")


def case_goroutines(t):
    t.ready()
    t.line("c = chan()")
    t.line("go(function() c:recv() end)")
    t.line(":goroutines")
    t.wait("goroutine 1 [running]:")
    t.wait("[chan receive]:")
    after_prompt(t, "=1", "\n1\n")


def case_script_then_repl(t):
    t.ready()
    after_prompt(t, "=answer", "\n42\n")
    after_prompt(t, "=double(4)", "\n8\n")


def history_two_sessions(home):
    t = Term("hist1", home)
    try:
        t.ready()
        t.line("remembered = 'across sessions'")
        t.wait(lambda s: sum(1 for l in s.splitlines() if l.startswith(">")) >= 2,
               desc="second prompt")
        t.key("C-d")
        if t.status() != 0:
            raise Fail("status %d" % t.status())
    finally:
        t.close()
    t = Term("hist2", home)
    try:
        t.ready()
        t.key("Up")
        t.wait("> remembered = 'across sessions'")
        t.key("Enter")
        after_prompt(t, "=remembered", "across sessions")
    finally:
        t.close()


def main():
    if shutil.which("tmux") is None:
        print("tmux is not installed (apt-get install tmux)")
        return 1
    cases = [(n, f) for n, f in sorted(globals().items()) if n.startswith("case_")]
    failed = 0
    root = tempfile.mkdtemp(prefix="lugo-repl-")
    script = os.path.join(root, "s.lua")
    with open(script, "w") as f:
        f.write("answer = 42\nfunction double(x) return 2 * x end\n")
    try:
        for name, fn in cases + [("history", None)]:
            home = tempfile.mkdtemp(dir=root)
            start = time.time()
            try:
                if fn is None:
                    history_two_sessions(home)
                else:
                    args = ["-i", script] if name == "case_script_then_repl" else []
                    t = Term(name, home, args)
                    try:
                        fn(t)
                    finally:
                        t.close()
                print("ok   %s (%.1fs)" % (name, time.time() - start))
            except (Fail, AssertionError) as e:
                failed += 1
                print("FAIL %s: %s" % (name, e))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("%d passed, %d failed" % (len(cases) + 1 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
