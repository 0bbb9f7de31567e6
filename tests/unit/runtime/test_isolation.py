"""`_isolation`: the carving of Landlock rules, the start-up notice, and a real
environment-like fork walled in (where the machine has the facilities)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lambic.runtime import _isolation
from lambic.runtime._isolation import Facilities


def test_a_root_holding_a_protected_path_is_replaced_by_its_other_entries(tmp_path: Path) -> None:
    for rel in ["a.txt", "lib/x.py", "proj/app.py", "proj/.lambic/config.json"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    allowed = _isolation._allowed([str(tmp_path)], [str(tmp_path / "proj" / ".lambic")])
    assert sorted(allowed) == sorted(str(tmp_path / rel) for rel in ["a.txt", "lib", "proj/app.py"])


def test_a_root_inside_a_protected_path_is_dropped_and_others_are_kept(tmp_path: Path) -> None:
    roots = [str(tmp_path / "proj" / ".venv"), "/usr"]
    assert _isolation._allowed(roots, [str(tmp_path / "proj")]) == ["/usr"]


def test_the_notice_names_each_missing_facility(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(_isolation.SWITCH, raising=False)
    monkeypatch.setattr(_isolation, "_facilities", Facilities(landlock=0, namespaces=False))
    line = _isolation.notice()
    assert line is not None and line.startswith("Isolation is partial on this machine: ")
    assert "no Landlock" in line and "/proc/<pid>/environ" in line and "/tmp is shared" in line
    monkeypatch.setattr(_isolation, "_facilities", Facilities(landlock=6, namespaces=True))
    assert _isolation.notice() is None


def test_the_notice_reports_what_the_zygote_found_without_probing_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(_isolation.SWITCH, raising=False)
    monkeypatch.setattr(_isolation, "_facilities", None)

    def no_probe() -> Facilities:
        raise AssertionError("the gateway's process must not fork to probe")

    monkeypatch.setattr(_isolation, "probe", no_probe)
    line = _isolation.notice({"landlock": 0, "namespaces": True})
    assert line is not None and "no Landlock" in line and "/tmp is shared" not in line
    assert _isolation.notice({"landlock": 4, "namespaces": True}) is None


def test_what_the_zygote_found_travels_as_json_and_reads_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(_isolation.SWITCH, raising=False)
    monkeypatch.setattr(_isolation, "_facilities", Facilities(landlock=0, namespaces=False))
    found = json.loads(json.dumps(_isolation.found()))
    monkeypatch.setattr(_isolation, "_facilities", Facilities(landlock=6, namespaces=True))
    assert _isolation.notice(found) == (
        "Isolation is partial on this machine: "
        + "; ".join(Facilities(landlock=0, namespaces=False).missing())
        + "."
    )
    monkeypatch.setenv(_isolation.SWITCH, "off")
    assert _isolation.found() is None


def test_the_notice_says_isolation_is_off_when_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(_isolation.SWITCH, "off")
    assert _isolation.notice() == (
        "Isolation is off (LAMBIC_ISOLATION=off): handlers can read .lambic/ and more."
    )


def _walled_in_child(task_root: Path, protect: list[str], attempts: list[str]) -> dict[str, str]:
    """Fork, wall the child in as an environment is, and report what it could open."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        outcome: dict[str, str] = {}
        try:
            _isolation.enter(str(task_root), protect)
            for path in attempts:
                try:
                    with open(path, "rb") as fh:
                        fh.read(1)
                    outcome[path] = "read"
                except OSError as exc:
                    outcome[path] = type(exc).__name__
        finally:
            os.write(write_end, json.dumps(outcome).encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    result: dict[str, str] = json.loads(data)
    return result


@pytest.mark.skipif(not _isolation.facilities().landlock, reason="needs Landlock")
def test_a_walled_in_process_reads_its_code_and_the_system_but_not_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(_isolation.SWITCH, raising=False)
    project = tmp_path / "proj"
    (project / ".lambic" / "state" / "dev").mkdir(parents=True)
    (project / ".lambic" / "config.json").write_text("{}")
    (project / ".lambic" / "state" / "dev" / "logs.sqlite3").write_text("")
    (project / "app.py").write_text("")
    code = tmp_path / "snapshot"
    code.mkdir()
    (code / "app.py").write_text("")
    config = str(project / ".lambic" / "config.json")
    logs = str(project / ".lambic" / "state" / "dev" / "logs.sqlite3")
    attempts = [str(code / "app.py"), "/etc/hostname", config, logs, str(project / "app.py")]
    opened = _walled_in_child(code, [str(project)], attempts)
    assert opened[str(code / "app.py")] == "read"
    assert opened["/etc/hostname"] == "read"
    assert [opened[path] for path in attempts[2:]].count("read") == 0, opened
    # And a task root that is the project itself keeps its .lambic/ out of reach:
    opened = _walled_in_child(project, [str(project / ".lambic" / "state" / "dev")], [config, logs])
    assert "read" not in opened.values(), opened


@pytest.mark.skipif(not _isolation.facilities().namespaces, reason="needs namespaces")
def test_python_installed_under_tmp_stays_importable_behind_the_private_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CI checkout under /tmp has its venv there: the private /tmp must not hide it.
    monkeypatch.delenv(_isolation.SWITCH, raising=False)
    site = tmp_path / "venv" / "site-packages"
    site.mkdir(parents=True)
    (site / "somepackage.py").write_text("")
    monkeypatch.syspath_prepend(str(site))
    code = tmp_path / "snapshot"
    code.mkdir()
    opened = _walled_in_child(code, [], [str(site / "somepackage.py")])
    assert opened[str(site / "somepackage.py")] == "read", opened


@pytest.mark.skipif(not _isolation.facilities().landlock, reason="needs Landlock")
def test_an_allowed_directory_is_readable_but_protected_paths_inside_it_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(_isolation.SWITCH, raising=False)
    out, project = tmp_path / "out", tmp_path / "proj"
    (project / ".lambic").mkdir(parents=True)
    (project / ".lambic" / "config.json").write_text("{}")
    out.mkdir()
    (out / "seen.txt").write_text("")
    code = tmp_path / "snapshot"
    code.mkdir()
    monkeypatch.setenv(_isolation.ALLOW, str(tmp_path))
    config = str(project / ".lambic" / "config.json")
    opened = _walled_in_child(code, [str(project)], [str(out / "seen.txt"), config])
    assert opened[str(out / "seen.txt")] == "read"
    assert opened[config] in ("PermissionError", "FileNotFoundError")  # refused, or hidden


@pytest.mark.skipif(not _isolation.facilities().landlock, reason="needs Landlock")
def test_without_namespaces_landlock_alone_keeps_a_project_under_tmp_out_of_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on a machine whose user namespaces are restricted (Ubuntu's AppArmor default).
    monkeypatch.delenv(_isolation.SWITCH, raising=False)
    monkeypatch.setattr(_isolation, "_facilities", Facilities(_isolation.landlock_abi(), False))
    project = tmp_path / "proj"
    (project / ".lambic").mkdir(parents=True)
    (project / ".lambic" / "config.json").write_text("{}")
    code = tmp_path / "snapshot"
    code.mkdir()
    (code / "app.py").write_text("")
    config = str(project / ".lambic" / "config.json")
    opened = _walled_in_child(code, [str(project)], [config, str(code / "app.py")])
    assert opened == {config: "PermissionError", str(code / "app.py"): "read"}
