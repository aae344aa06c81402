"""The portable llama.cpp build: flags that never trust what the CPU advertises, a wheel cache
keyed by those flags, and a crash that becomes one clear message (issue 7, item 1)."""

from __future__ import annotations

import signal

import pytest

from selfcoder.core.errors import ModelError
from selfcoder.llm import llama_build

AMX_VM = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma f16c avx512f avx512bw amx_tile amx_int8 amx_bf16\n"
OLD_CPU = "processor\t: 0\nflags\t\t: fpu sse sse2 sse4_2\n"
AVX512_CPU = ("processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma f16c avx512f avx512cd avx512vl avx512dq "
              "avx512bw avx512vbmi avx512_vnni avx512_bf16 amx_tile amx_int8 amx_bf16\n")


def on(flags: list[str]) -> set[str]:
    return {f.split("=")[0].removeprefix("-DGGML_") for f in flags if f.endswith("=ON")}


def test_a_cpu_that_advertises_amx_gets_no_amx_and_no_native_build():
    flags = llama_build.build_flags(llama_build.cpu_flags(AMX_VM), avx512_runs=lambda: True)
    assert "-DGGML_NATIVE=OFF" in flags
    assert on(flags) == {"AVX", "AVX2", "FMA", "F16C"}
    assert "-DGGML_AMX_TILE=OFF" in flags and "-DGGML_AVX512=OFF" in flags


def test_avx512_only_when_asked_for_and_an_avx512_instruction_just_ran_here_and_never_amx(monkeypatch):
    monkeypatch.delenv(llama_build.MAX_TIER_VAR, raising=False)
    listed = llama_build.cpu_flags(AVX512_CPU)
    # the default is the AVX2 tier, whatever the CPU lists
    assert on(llama_build.build_flags(listed, avx512_runs=lambda: True)) == {"AVX", "AVX2", "FMA", "F16C"}
    monkeypatch.setenv(llama_build.MAX_TIER_VAR, "avx512")
    # listed by the CPU, refused by the OS or the hypervisor (the probe died): AVX2 only
    assert on(llama_build.build_flags(listed, avx512_runs=lambda: False)) == {"AVX", "AVX2", "FMA", "F16C"}
    ran = on(llama_build.build_flags(listed, avx512_runs=lambda: True))
    assert ran == {"AVX", "AVX2", "FMA", "F16C", "AVX512", "AVX512_VBMI", "AVX512_VNNI"}
    assert not {"AMX_TILE", "AMX_INT8", "AMX_BF16"} & ran
    monkeypatch.setenv(llama_build.MAX_TIER_VAR, "baseline")  # named in the crash message
    assert on(llama_build.build_flags(listed, avx512_runs=lambda: True)) == set()


def test_the_probe_runs_machine_code_in_a_child_and_survives_an_illegal_instruction():
    assert llama_build.machine_code_runs("c3")  # ret
    assert not llama_build.machine_code_runs("0f0bc3")  # ud2: SIGILL in the child, a False here


def test_a_cpu_without_avx2_gets_plain_code():
    assert on(llama_build.build_flags(llama_build.cpu_flags(OLD_CPU))) == set()


def test_the_wheel_cache_key_changes_with_the_flags(monkeypatch):
    avx2 = llama_build.build_flags(llama_build.cpu_flags(AMX_VM))
    plain = llama_build.build_flags(llama_build.cpu_flags(OLD_CPU))
    monkeypatch.setenv(llama_build.MAX_TIER_VAR, "avx512")
    avx512 = llama_build.build_flags(llama_build.cpu_flags(AVX512_CPU), avx512_runs=lambda: True)
    assert len({llama_build.build_key(avx2), llama_build.build_key(plain), llama_build.build_key(avx512)}) == 3
    assert llama_build.build_key(avx2) == llama_build.build_key(list(avx2))
    assert llama_build.wheel_cache_dir("k1") != llama_build.wheel_cache_dir("k2")


def test_a_build_not_marked_as_ours_is_not_current(tmp_path, monkeypatch):
    """A llama_cpp installed by plain pip (a native build, or one cached on another CPU) carries no
    marker with this CPU's key: `model install` rebuilds it instead of trusting it."""
    pkg = tmp_path / "llama_cpp"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    monkeypatch.setattr(llama_build, "_package_dir", lambda: pkg)
    monkeypatch.setattr(llama_build, "LLAMA_SERVER_MODULES", ("json",))
    assert not llama_build.is_current()
    (pkg / llama_build.MARKER).write_text('{"key": "built-elsewhere"}')
    assert not llama_build.is_current()
    (pkg / llama_build.MARKER).write_text('{"key": "%s"}' % llama_build.build_key(llama_build.build_flags()))
    assert llama_build.is_current()


@pytest.mark.parametrize("code, words", [(-signal.SIGILL, "SIGILL (illegal instruction)"),
                                         (-signal.SIGKILL, "SIGKILL"), (3, "exited with status 3")])
def test_exit_codes_are_named(code, words):
    assert words in llama_build.describe_exit(code)


def test_the_smoke_test_names_a_crash(tmp_path, monkeypatch):
    """A build that dies on its first completion is one message naming the signal and the fix. The
    stand-in for the crashing build is a real child process killed by SIGILL."""
    monkeypatch.setattr(llama_build, "_SMOKE", "import os, signal; os.kill(os.getpid(), signal.SIGILL)")
    with pytest.raises(ModelError) as e:
        llama_build.smoke_test(tmp_path / "model.gguf")
    assert "SIGILL (illegal instruction)" in str(e.value)
    assert "selfcoder model install --rebuild" in str(e.value)


def test_pip_failure_is_one_line_with_the_log(monkeypatch, tmp_path):
    lines = []
    with pytest.raises(ModelError) as e:
        llama_build._pip(["install", "--no-index", "--find-links", str(tmp_path), "no-such-package-xyz==9.9"],
                         "installing llama-cpp-python", lines.append)
    assert "installing llama-cpp-python failed" in str(e.value) and "pip's log:" in str(e.value)
    assert "no such version" in str(e.value)
