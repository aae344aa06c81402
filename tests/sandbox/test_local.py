"""Properties of the `local` (bubblewrap) backend that the contract suite does not name."""

from __future__ import annotations

import os

import pytest

from selfcoder.core.errors import SandboxError
from selfcoder.sandbox import Mount, SandboxSpec, open_sandbox
from selfcoder.sandbox.local import LocalSandbox

from .conftest import SMALL, assert_no_leftovers, run_id


@pytest.mark.skipif(os.geteuid() != 0, reason="per-sandbox uids need root")
def test_each_sandbox_runs_under_its_own_unprivileged_uid(tmp_path):
    with open_sandbox(SandboxSpec(source=tmp_path, limits=SMALL), "local") as a, \
            open_sandbox(SandboxSpec(source=tmp_path, limits=SMALL), "local") as b:
        assert isinstance(a, LocalSandbox)
        ids = {a.run("id -u").output.strip(), b.run("id -u").output.strip()}
        assert len(ids) == 2 and "0" not in ids
        assert str(a.uid) in ids
        seen = set(a.run("ps -e -o comm=").output.split())  # a private pid namespace: nothing of the host
        assert seen <= {"bwrap", "python3", "bash", "ps"}, seen
        assert a.run("stat -c %u /workspace").output.strip() == str(a.uid)


@pytest.mark.skipif(os.geteuid() != 0, reason="only a foreign uid is refused by a private directory")
def test_unreachable_mount_is_a_clear_error(tmp_path):
    private = tmp_path / "private"
    (private / "inner").mkdir(parents=True)
    private.chmod(0o700)
    rid = run_id()
    with pytest.raises(SandboxError, match="traversable by other users") as err:
        open_sandbox(SandboxSpec(source=tmp_path, limits=SMALL, run_id=rid,
                                 mounts=[Mount(private / "inner", "/data")]), "local")
    assert "\n" not in str(err.value)
    assert_no_leftovers("local", rid)  # a failed start cleans up after itself
    with pytest.raises(SandboxError, match="does not exist"):
        open_sandbox(SandboxSpec(source=tmp_path, limits=SMALL, mounts=[Mount(tmp_path / "nope", "/x")]), "local")


def test_no_nested_user_namespaces_and_no_host_view(tmp_path):
    with open_sandbox(SandboxSpec(source=tmp_path, limits=SMALL), "local") as sb:
        assert sb.run("unshare -U true").exit_code != 0
        assert sb.run("ls /home /root /work /var 2>/dev/null | wc -l").output.strip() == "0"
        assert sb.run("hostname").output == "sandbox\n"
