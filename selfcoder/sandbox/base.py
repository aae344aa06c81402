"""The `Sandbox` interface every backend implements, and the values it passes around.

Callers (runner, validator, CLI, eval, evolve, the language server) only ever see this module's
types; they pick a backend by name through `selfcoder.sandbox.open_sandbox`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from selfcoder.core.config import DEFAULT_IMAGE

# Paths as the code inside the sandbox sees them.
WORKDIR = "/workspace"
RUN_DIR = "/run/selfcoder"  # the run's io dir: task.json, llm.sock (the gateway socket)
LLM_SOCKET = f"{RUN_DIR}/llm.sock"
AGENT_DIR = "/agent"  # the scaffold, read-only

OutputCallback = Callable[[str], None]


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to every command run in a sandbox."""

    timeout_s: float = 300.0
    memory_mb: int = 4096
    pids: int = 512
    cpu_s: int = 1800
    file_size_mb: int = 1024
    output_bytes: int = 100_000
    cpus: float = 0.0  # cores at once, docker only; 0 = all
    # Each writable place of the sandbox (the workspace, /tmp) holds at most this much; 0 = unbounded.
    # The workspace is a size-limited tmpfs (RAM, not disk: pages are only used when written).
    disk_mb: int = 2048
    patch_mb: int = 10  # diff() refuses a larger patch (PatchTooLarge) ...
    patch_files: int = 1000  # ... or one touching more files

    @classmethod
    def from_settings(cls, s) -> "Limits":  # s: selfcoder.core.config.SandboxSettings
        return cls(s.timeout_s, s.memory_mb, s.pids, s.cpu_s, s.file_size_mb, s.output_bytes, s.cpus,
                   disk_mb=s.disk_mb, patch_mb=s.patch_mb, patch_files=s.patch_files)


@dataclass(frozen=True)
class Mount:
    """A host path made visible inside the sandbox."""

    host: Path
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class ExecResult:
    """What one command did. `output` is stdout and stderr interleaved, capped:
    the head and tail are kept and a marker line says how many bytes were cut."""

    exit_code: int
    output: str
    duration_s: float
    timed_out: bool = False
    truncated_bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


@dataclass
class SandboxSpec:
    """Everything needed to create a sandbox; backends take it as-is."""

    source: Path  # directory, git repository, or tarball
    commit: str | None = None  # for git sources: check out this commit instead of HEAD + changes
    limits: Limits = field(default_factory=Limits)
    mounts: Sequence[Mount] = ()
    env: Mapping[str, str] = field(default_factory=dict)  # extra allow-listed variables
    run_id: str | None = None  # label for cleanup (`selfcoder sandbox gc`)
    image: str = DEFAULT_IMAGE  # docker only
    # The uid commands run as (root only; default: a fresh one from `workdirs.pick_uid()`). A caller
    # that must hand the sandbox something before it exists (the gateway socket, chowned 0600 to
    # it) picks the uid first. Never give two live sandboxes the same uid: closing one kills
    # every process of its uid.
    uid: int | None = None


class Sandbox(abc.ABC):
    """A workspace holding a copy of a repository snapshot, where commands run isolated.

    Thread-safety: `close()` may be called from another thread (cancel); a running
    `run()` then returns promptly with a non-zero exit code.
    """

    id: str
    backend: str

    @abc.abstractmethod
    def run(
        self,
        cmd: str | Sequence[str],
        *,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str = WORKDIR,
        on_output: OutputCallback | None = None,
    ) -> ExecResult:
        """Run `cmd` (a shell string, or argv) inside the sandbox and wait for it.

        `timeout` defaults to the sandbox's `Limits.timeout_s`; on timeout the whole
        process tree of the command is killed. `on_output` receives output chunks
        as they arrive (for live progress)."""

    @abc.abstractmethod
    def read_file(self, path: str) -> bytes:
        """Read a file; relative paths are relative to the workspace."""

    @abc.abstractmethod
    def write_file(self, path: str, data: bytes | str) -> None:
        """Write a file (parents created); relative paths are relative to the workspace."""

    @abc.abstractmethod
    def diff(self) -> str:
        """Unified diff (`git diff --binary` format) of the workspace against the snapshot:
        new, deleted and binary files included; `git apply` accepts it on the original."""

    @abc.abstractmethod
    def close(self) -> None:
        """Kill everything still running and remove all resources. Idempotent."""

    def leftovers(self) -> list[str]:
        """What of this sandbox still exists on the host, one line each ("process 123",
        "directory /tmp/...", "container abc"); empty once `close()` has returned.
        Used by tests and diagnostics; backends override it."""
        raise NotImplementedError(f"{type(self).__name__}.leftovers")

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
