#!/usr/bin/env python3
"""procstat.py: CPU time and memory of process trees, from /proc.

Usage: procstat.py cpu PID...   CPU seconds used so far by each PID and its
                                descendants, summed: utime + stime of every
                                live process of the tree, plus cutime + cstime
                                (children that exited and were reaped, e.g.
                                PostgreSQL backends of closed connections)
       procstat.py rss PID...   VmRSS of each PID and its descendants, summed, in kB
Prints one number. PIDs that do not exist count 0.
"""
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def stats():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        # rest[0] is field 3 (state): ppid is field 4, utime..cstime 14..17
        out[int(d)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))
    return out


def tree(st, roots):
    children = {}
    for pid, (ppid, _) in st.items():
        children.setdefault(ppid, []).append(pid)
    seen, todo = set(), [p for p in roots if p in st]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo.extend(children.get(p, []))
    return seen


def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("cpu", "rss"):
        sys.exit(__doc__)
    roots = [int(p) for p in sys.argv[2:] if p.isdigit()]
    st = stats()
    pids = tree(st, roots)
    if sys.argv[1] == "cpu":
        print(f"{sum(st[p][1] for p in pids) / TICK:.2f}")
    else:
        print(sum(rss(p) for p in pids))


if __name__ == "__main__":
    main()
