"""What one command inside the sandbox may use: its rlimits, and the output kept of it.

Runs INSIDE the sandbox beside executor.py (which loads it by path), under whatever Python the
sandbox has: standard library only, Python >= 3.8, no selfcoder import. The executor applies the
sandbox's limits to itself at start (commands inherit them with no Python code between fork and
exec) and a command's own limits in the child only when they differ.
"""

import resource

MB = 1 << 20
RLIMIT_KEYS = ("memory_mb", "pids", "cpu_s", "file_size_mb")


def set_limit(res, value):
    soft, hard = resource.getrlimit(res)
    if hard != resource.RLIM_INFINITY and value > hard:
        value = hard
    try:
        resource.setrlimit(res, (value, value))
    except (ValueError, OSError):
        pass


def limiter(limits):
    """The preexec function: applies rlimits in the child, before exec."""

    def apply():
        set_limit(resource.RLIMIT_CORE, 0)
        if limits.get("memory_mb"):
            set_limit(resource.RLIMIT_AS, int(limits["memory_mb"]) * MB)
        if limits.get("pids"):
            set_limit(resource.RLIMIT_NPROC, int(limits["pids"]))
        if limits.get("file_size_mb"):
            set_limit(resource.RLIMIT_FSIZE, int(limits["file_size_mb"]) * MB)
        if limits.get("cpu_s"):
            cpu = int(limits["cpu_s"])
            soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
            try:  # SIGXCPU at the soft limit, SIGKILL one second later
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1 if hard == resource.RLIM_INFINITY else hard))
            except (ValueError, OSError):
                pass

    return apply


class Capture:
    """Keeps the first and the last `cap/2` bytes of a stream, counts the rest."""

    def __init__(self, cap):
        self.half = max(int(cap) // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data):
        self.total += len(data)
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.half:
                del self.tail[: len(self.tail) - self.half]

    def cut(self):
        return self.total - len(self.head) - len(self.tail)

    def text(self):
        cut = self.cut()
        if cut == 0:
            return bytes(self.head + self.tail).decode("utf-8", "replace")
        head = bytes(self.head).decode("utf-8", "replace")
        tail = bytes(self.tail).decode("utf-8", "replace")
        sep = "" if head.endswith("\n") else "\n"
        return "%s%s[... %d bytes cut ...]\n%s" % (head, sep, cut, tail)
