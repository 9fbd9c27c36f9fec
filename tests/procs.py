"""Processes by their command line (/proc), for the tests that run programs through a script
or a shell (tests/demo, tests/guide) and check that none is left running afterwards."""
import glob
import os


def alive(pid):
    """Running (a zombie the shell has not reaped yet has stopped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def running_with(text):
    """The running processes, other than this one, whose command line mentions text (a test's
    temporary folder), as (pid, args)."""
    found = []
    for d in glob.glob("/proc/[0-9]*"):
        pid = int(d[6:])
        try:
            with open(d + "/cmdline", "rb") as f:
                args = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in args and pid != os.getpid() and alive(pid):
            found.append((pid, args))
    return found
