"""What only the docker backend has: the container's settings, its restart after the executor
dies, the base image's contents, the one-line reasons `docker_available()` gives, container gc
by owner labels, and the offline image builder's mirror lookup and cache. (The behaviour every
backend shares is in test_contract.py / test_adversarial.py, run on docker too.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from selfcoder.core.errors import SandboxError
from selfcoder.sandbox import SandboxSpec, open_sandbox
from selfcoder.sandbox.docker_backend import DEFAULT_IMAGE, docker_available
from selfcoder.sandbox.docker_client import docker_client
from selfcoder.sandbox.docker_gc import (LABEL_BOOT, LABEL_HOST, LABEL_PID, LABEL_RUN, LABEL_START, gc_containers,
                                         owner_labels)
from selfcoder.sandbox.image import apt_mirror, build_image

from .conftest import SMALL, run_id

REASON = docker_available()
pytestmark = [pytest.mark.docker, pytest.mark.skipif(REASON is not None, reason=f"docker unavailable: {REASON}")]


@pytest.fixture
def sb(tmp_path):
    (tmp_path / "hello.py").write_text("print('hello')\n")
    with open_sandbox(SandboxSpec(source=tmp_path, limits=SMALL, run_id=run_id()), "docker") as sandbox:
        yield sandbox


def test_container_is_locked_down(sb):
    attrs = docker_client().api.inspect_container(sb._container)
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["Memory"] == SMALL.memory_mb << 20 and host["MemorySwap"] == host["Memory"]
    assert host["PidsLimit"] == SMALL.pids and host["NanoCpus"] > 0
    assert host["CapDrop"] == ["ALL"] and "no-new-privileges" in host["SecurityOpt"]
    assert "/tmp" in host["Tmpfs"]
    assert attrs["Config"]["Labels"][LABEL_RUN] == sb.spec.run_id
    mounts = {m["Destination"]: m for m in attrs["Mounts"]}
    assert mounts["/workspace"]["RW"] is True and mounts["/.selfcoder"]["RW"] is False
    # ...and as the code inside sees it: not root, no capabilities, pid 1 is the executor.
    res = sb.run("id -u; grep CapEff /proc/self/status; cat /proc/1/cmdline | tr '\\0' ' '")
    uid, caps, init = res.output.splitlines()
    assert uid != "0" and caps.split()[1] == "0000000000000000" and "executor.py" in init


def test_base_image_has_the_tools_tests_need(sb):
    res = sb.run("python3 -m venv /tmp/v && /tmp/v/bin/python -c 'print(42)' && git --version && patch --version "
                 "&& python3 -m pytest --version && python3 hello.py", timeout=120)
    assert res.ok, res.output
    assert "42" in res.output and "git version" in res.output and "GNU patch" in res.output
    assert res.output.endswith("hello\n")


def test_a_dead_container_is_replaced_and_the_workspace_kept(sb):
    sb.run("echo keep > kept.txt && echo lost > /tmp/lost.txt")
    old = sb._container
    docker_client().api.kill(old)  # pid 1 gone, e.g. the OOM killer took the executor
    check = "cat kept.txt; test -e /tmp/lost.txt && echo tmp-kept || echo tmp-fresh"
    res = sb.run(check)
    if res.exit_code == 137:  # the kill raced the request: that one command is lost, the sandbox is not
        res = sb.run(check)
    assert sb._container != old and res.output == "keep\ntmp-fresh\n", res.output
    sb.close()
    assert sb.leftovers() == []


def test_unavailable_reasons_say_how_to_fix(monkeypatch):
    reason = docker_available("selfcoder-no-such-image:none")
    assert reason and "not found" in reason and "build-image" in reason
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    reason = docker_available()
    assert reason and "ensure-docker.sh" in reason
    with pytest.raises(SandboxError, match="no Docker engine answers"):
        open_sandbox(SandboxSpec(source=os.getcwd()), "docker")


def test_missing_image_is_a_one_line_error(tmp_path):
    with pytest.raises(SandboxError, match="build-image"):
        open_sandbox(SandboxSpec(source=tmp_path, image="selfcoder-no-such-image:none"), "docker")


def _container(client, labels: dict[str, str]) -> str:
    created = client.api.create_container(DEFAULT_IMAGE, ["sleep", "300"], labels=labels,
                                          host_config=client.api.create_host_config(network_mode="none"))
    client.api.start(created["Id"])
    return created["Id"]


def test_gc_removes_containers_of_dead_owners_only():
    client = docker_client()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    rid = run_id()
    mine = owner_labels(rid)
    ids = {
        "live": _container(client, mine),
        "dead": _container(client, {**mine, LABEL_PID: str(dead.pid)}),
        "reused pid": _container(client, {**mine, LABEL_START: "1"}),
        "rebooted": _container(client, {**mine, LABEL_BOOT: "another-boot"}),
        "other host": _container(client, {**mine, LABEL_HOST: "some-other-host", LABEL_PID: str(dead.pid)}),
    }
    try:
        would = gc_containers(client, dry_run=True)
        removed = gc_containers(client)
        left = {c.id for c in client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={rid}"})}
        assert left == {ids["live"], ids["other host"]}
        names = {client.api.inspect_container(ids[k])["Name"].lstrip("/") for k in ("live", "other host")}
        assert not names & set(removed) and set(would) >= set(removed) and len(removed) >= 3
        gc_containers(client, all_hosts=True)
        left = {c.id for c in client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={rid}"})}
        assert left == {ids["live"]}
    finally:
        for cid in ids.values():
            try:
                client.api.remove_container(cid, force=True)
            except Exception:
                pass


def test_apt_mirror_is_read_from_both_source_formats(tmp_path):
    deb822 = tmp_path / "debian.sources"
    deb822.write_text("Types: deb\n# comment\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
                      "Components: main\n\nTypes: deb\nURIs: http://mirror.example/debian\n"
                      "Suites: bookworm bookworm-updates\nComponents: main\n")
    assert apt_mirror((deb822,)) == "http://mirror.example/debian"
    oneline = tmp_path / "sources.list"
    oneline.write_text("# deb http://old/ bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/d bookworm "
                       "main\n")
    assert apt_mirror((tmp_path / "missing.sources", oneline)) == "http://m.example/d"
    assert apt_mirror((tmp_path / "missing.sources",)) == "http://deb.debian.org/debian"


def test_build_image_is_cached():
    messages: list[str] = []
    assert build_image(DEFAULT_IMAGE, messages.append) is False
    assert any("already exists" in m for m in messages)


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap needs root")
def test_build_image_from_the_mirror_and_run_a_sandbox_on_it(tmp_path):
    name = f"selfcoder-test-build:{run_id()}"
    client = docker_client()
    try:
        assert build_image(name, lambda m: None) is True
        with open_sandbox(SandboxSpec(source=tmp_path, image=name, limits=SMALL), "docker") as sandbox:
            assert sandbox.run("python3 -c 'import pytest, venv; print(1)' && git --version").ok
    finally:
        try:
            client.images.remove(name, force=True)
        except Exception:
            pass


def test_cpus_setting_caps_the_container(tmp_path):
    from dataclasses import replace

    with open_sandbox(SandboxSpec(source=tmp_path, limits=replace(SMALL, cpus=0.5), run_id=run_id()), "docker") as sb:
        host = docker_client().api.inspect_container(sb._container)["HostConfig"]
        assert host["NanoCpus"] == 500_000_000
