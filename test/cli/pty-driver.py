"""Drives a command under a pseudo-terminal for the CLI tests (no native Node dependency needed).

Usage: python3 pty-driver.py '<json>' where json is {"cmd": [...], "steps": [...], "timeout": seconds}.
Each step is {"waitFor": "text"} (wait until the output so far contains it, counted from the previous
wait's match), {"send": "text"}, or {"waitForSql": [file, query]} (wait until the query, run on that
SQLite file read-only, returns a row: a state on disk the output does not show). Prints a JSON object with the whole output and the exit code.
"""
import json
import os
import pty
import select
import sqlite3
import sys
import time

spec = json.loads(sys.argv[1])
timeout = spec.get("timeout", 60)
pid, fd = pty.fork()
if pid == 0:
    os.execvp(spec["cmd"][0], spec["cmd"])

output = b""
cursor = 0
deadline = time.time() + timeout


def pump(wait):
    global output
    ready, _, _ = select.select([fd], [], [], wait)
    if not ready:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False
    if not data:
        return False
    output += data
    return True


alive = True
def has_row(file, query):
    try:
        db = sqlite3.connect(f"file:{file}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute(query).fetchone() is not None
        finally:
            db.close()
    except sqlite3.Error:
        return False  # not there yet, or busy: asked again


failed = None
for step in spec["steps"]:
    if "send" in step:
        os.write(fd, step["send"].encode())
        continue
    if "waitForSql" in step:
        file, query = step["waitForSql"]
        while not has_row(file, query) and time.time() < deadline:
            pump(0.01)
        if not has_row(file, query):
            failed = query
            break
        continue
    needle = step["waitFor"].encode()
    while alive and output.find(needle, cursor) < 0 and time.time() < deadline:
        alive = pump(0.1)
    at = output.find(needle, cursor)
    if at < 0:
        failed = step["waitFor"]
        break
    cursor = at + len(needle)

while alive and time.time() < deadline:
    alive = pump(0.1)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        while pump(0.05):
            pass
        break
else:
    status = None
if status is None:
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        status = 0
code = os.waitstatus_to_exitcode(status) if status is not None else None
print(json.dumps({"output": output.decode("utf-8", "replace"), "code": code, "missing": failed}))
