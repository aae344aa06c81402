"""Build llama-cpp-python for the CPU the OS actually lets us use, and cache the wheel by its flags.

Why: llama-cpp-python compiles llama.cpp with `-march=native` by default. On a VM whose CPU
*advertises* AMX but does not let a process execute it, that build loads fine and dies with
SIGILL on its first completion; pip's wheel cache (keyed by name and version only) would also
carry such a build to any other CPU. So we never let pip build or cache it on its own:

- the build uses a portable baseline (`GGML_NATIVE=OFF`): AVX/AVX2/FMA/F16C when the CPU has
  them (every x86-64 CPU of the last decade), else plain SSE code; never AMX;
  `SELFCODER_LLAMA_MAX_TIER=baseline` goes below it. `SELFCODER_LLAMA_MAX_TIER=avx512` opts in to
  AVX-512 (+VBMI, VNNI), used only when the CPU lists it *and* a child process has just executed an
  AVX-512 instruction here: 1.48x the prompt tokens/s of AVX2 on our machine, the same generation
  speed. Not the default yet: bench/local_solve.py solved 1/14 with it, and the AVX2 build 4/14 on
  an earlier machine and 2/14 on the same machine in the same session; 14 tasks cannot tell
  the builds apart, and AVX2 is the build all earlier solve-rate measurements used;
- the wheel lives in `~/.cache/selfcoder/wheels/<key>/`, where `key` hashes the requirement,
  the cmake flags and the machine, so a wheel is reused only where the same flags apply;
- the installed package gets a marker naming its key: a llama_cpp installed some other way (a
  native build, a wheel from another CPU) is rebuilt instead of trusted;
- `smoke_test()` runs a real one-token completion in a child process and turns a crash into
  one message naming the signal.

We chose this over ggml's runtime dispatch (`GGML_BACKEND_DL` + `GGML_CPU_ALL_VARIANTS`), measured
with bench/llama_dispatch.py: on this machine (a VM whose CPU lists AMX) the dispatcher picks
`libggml-cpu-sapphirerapids.so` and the first completion dies with SIGILL, the very crash this
module exists to prevent; its AVX2 variant runs at the portable build's speed (1.00x prompt,
1.02x generation) and its AVX-512 variant at the speed of our AVX-512 tier. It also compiles 14
CPU backends instead of one, and llama-cpp-python 0.3.36 neither installs them where ggml looks
nor calls `ggml_backend_load_all()`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from selfcoder.core.errors import ModelError

LLAMA_CPP_VERSION = "0.3.36"
LLAMA_CPP_REQUIREMENT = f"llama-cpp-python[server]=={LLAMA_CPP_VERSION}"
LLAMA_SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
MARKER = ".selfcoder-build.json"
_AVX2_TIER = ("avx", "avx2", "fma", "f16c")
_AVX512_TIER = ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw")  # ggml's GGML_AVX512 (skylakex)
_AVX512_EXTRAS = {"avx512vbmi": "AVX512_VBMI", "avx512_vnni": "AVX512_VNNI"}  # icelake's additions
MAX_TIER_VAR = "SELFCODER_LLAMA_MAX_TIER"  # avx2 (default) | avx512 (opt-in, probed) | baseline
# vpxord zmm0, zmm0, zmm0; ret -- one AVX-512 instruction, run in a child: a SIGILL there is a "no"
AVX512_PROBE = "62f17d48efc0c3"
_OFF = ("AVX", "AVX2", "AVX512", "FMA", "F16C", "AMX_TILE", "AMX_INT8", "AMX_BF16", "AVX_VNNI", "AVX512_VNNI",
        "AVX512_BF16", "AVX512_VBMI")

Log = Callable[[str], None]


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The `flags` of the first CPU in /proc/cpuinfo (empty where there is none)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def build_flags(flags: set[str] | None = None, *, avx512_runs: Callable[[], bool] | None = None) -> list[str]:
    """cmake flags for a build that runs on this CPU without trusting what it advertises."""
    flags = cpu_flags() if flags is None else flags
    tier = os.environ.get(MAX_TIER_VAR, "avx2").strip().lower()
    on: set[str] = set()
    if tier in ("avx2", "avx512") and all(f in flags for f in _AVX2_TIER):
        on |= {"AVX", "AVX2", "FMA", "F16C"}
        if tier == "avx512" and all(f in flags for f in _AVX512_TIER) and (avx512_runs or _avx512_runs)():
            on |= {"AVX512"} | {name for flag, name in _AVX512_EXTRAS.items() if flag in flags}
    return ["-DGGML_NATIVE=OFF", *(f"-DGGML_{name}={'ON' if name in on else 'OFF'}" for name in _OFF)]


_PROBE = """
import ctypes, mmap, sys
buf = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
buf.write(bytes.fromhex(sys.argv[1]))
ctypes.CFUNCTYPE(None)(ctypes.addressof(ctypes.c_char.from_buffer(buf)))()
print("ran")
"""


def machine_code_runs(code_hex: str) -> bool:
    """Whether this machine code (ending in `ret`) runs here: executed in a child process, so an
    instruction the CPU lists but the OS or hypervisor does not allow is a False, not a crash."""
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE, code_hex], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and proc.stdout.strip() == "ran"


_probed: dict[str, bool] = {}


def _avx512_runs() -> bool:
    if AVX512_PROBE not in _probed:
        _probed[AVX512_PROBE] = machine_code_runs(AVX512_PROBE)
    return _probed[AVX512_PROBE]


def build_key(flags: list[str]) -> str:
    """Names a wheel: same requirement, same flags, same machine and Python → same key."""
    text = "|".join([LLAMA_CPP_REQUIREMENT, *flags, platform.machine(), sys.implementation.cache_tag])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def wheel_cache_dir(key: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser()
    return base / "selfcoder" / "wheels" / f"llama-cpp-python-{LLAMA_CPP_VERSION}-{key}"


def _package_dir() -> Path | None:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def installed_key() -> str | None:
    """The build key of the installed llama_cpp, or None (missing, or not built by us)."""
    pkg = _package_dir()
    if pkg is None or not all(importlib.util.find_spec(m) for m in LLAMA_SERVER_MODULES):
        return None
    try:
        return json.loads((pkg / MARKER).read_text()).get("key")
    except (OSError, ValueError):
        return None


def is_current() -> bool:
    """llama-cpp-python[server] is installed, built by us with the flags this CPU needs."""
    return installed_key() == build_key(build_flags())


def _pip(args: list[str], what: str, log: Log, env: dict | None = None) -> None:
    """Run pip (its output goes to a log file, shown on failure) and raise one clear line if it fails."""
    with tempfile.NamedTemporaryFile("w+", prefix="selfcoder-pip-", suffix=".log", delete=False) as out:
        proc = subprocess.run([sys.executable, "-m", "pip", *args], stdout=out, stderr=subprocess.STDOUT, env=env)
        out.seek(0)
        lines = [line.rstrip() for line in out.read().splitlines() if line.strip() and "WARNING: Location" not in line]
    if proc.returncode != 0:
        for line in lines[-15:]:
            log(f"  {line}")
        hint = ""
        if any("No matching distribution" in line or "Could not find a version" in line or "Failed to establish" in line
               or "Network is unreachable" in line for line in lines):
            hint = " (the package index could not be reached or has no such version)"
        raise ModelError(f"{what} failed{hint}; pip's log: {out.name}")
    Path(out.name).unlink(missing_ok=True)


def build_wheel(flags: list[str], dest: Path, log: Log) -> Path:
    """Compile llama-cpp-python with `flags` into `dest` (atomically: a killed build leaves nothing)."""
    log(f"compiling llama-cpp-python {LLAMA_CPP_VERSION} for this CPU ({' '.join(flags[:5])} ...); "
        "~8 min on 2 cores, once")
    env = {**os.environ, "CMAKE_ARGS": " ".join(flags), "FORCE_CMAKE": "1",
           "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 1)}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".tmp-", dir=dest.parent))
    try:
        _pip(["wheel", "--no-deps", "--no-cache-dir", "--no-binary", "llama-cpp-python", "-w", str(tmp),
              f"llama-cpp-python=={LLAMA_CPP_VERSION}"], "building llama-cpp-python", log, env)
        wheels = list(tmp.glob("llama_cpp_python-*.whl"))
        if not wheels:
            raise ModelError(f"building llama-cpp-python left no wheel in {tmp}")
        (tmp / "flags.json").write_text(json.dumps({"flags": flags, "key": dest.name}))
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return next(dest.glob("llama_cpp_python-*.whl"))


def ensure_llama_cpp(log: Log = print, *, rebuild: bool = False) -> bool:
    """Install llama-cpp-python[server] built for this CPU. Returns True when it installed now."""
    flags = build_flags()
    key = build_key(flags)
    if not rebuild and installed_key() == key:
        return False
    cache = wheel_cache_dir(key)
    wheels = [] if rebuild else sorted(cache.glob("llama_cpp_python-*.whl"))
    wheel = wheels[0] if wheels else build_wheel(flags, cache, log)
    log(f"installing {wheel.name} (build {key})")
    _pip(["install", "--force-reinstall", "--no-deps", str(wheel)], "installing llama-cpp-python", log)
    _pip(["install", f"{wheel}[server]"], "installing the llama.cpp server's dependencies", log)
    importlib.invalidate_caches()
    pkg = _package_dir()
    if pkg is None:
        raise ModelError("llama-cpp-python was installed but cannot be imported")
    (pkg / MARKER).write_text(json.dumps({"key": key, "flags": flags}))
    return True


def describe_exit(code: int) -> str:
    """'killed by SIGILL (illegal instruction)' / 'exited with status 3' for a child's return code."""
    if code < 0:
        try:
            sig = signal.Signals(-code)
        except ValueError:
            return f"killed by signal {-code}"
        what = signal.strsignal(sig) or sig.name
        return f"killed by {sig.name} ({what.lower()})"
    return f"exited with status {code}"


_SMOKE = """
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=256, n_threads=1, verbose=False)
out = llm.create_completion("def add(a, b):", max_tokens=1, temperature=0)
print("SMOKE-OK", repr(out["choices"][0]["text"]))
"""


def smoke_test(model: Path, timeout_s: float = 300) -> str:
    """One real token from the installed build; raises ModelError naming a crash. Returns the token."""
    try:
        proc = subprocess.run([sys.executable, "-c", _SMOKE, str(model)], capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise ModelError(f"the local model gave no token within {timeout_s:.0f} s") from None
    for line in proc.stdout.splitlines():
        if line.startswith("SMOKE-OK"):
            return line[len("SMOKE-OK "):]
    tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
    raise ModelError(f"llama.cpp {describe_exit(proc.returncode)} on a one-token completion"
                     + (f": {tail}" if tail else "")
                     + "; rebuild with `selfcoder model install --rebuild` (or, for a build that"
                     + f" uses fewer CPU features, `{MAX_TIER_VAR}=baseline selfcoder model install`)")
