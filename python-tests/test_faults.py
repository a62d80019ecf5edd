"""Fault tests: a step killed with SIGKILL at any moment, or whose writes fail (file-size
limit: EFBIG, as a full disk gives ENOSPC), leaves every output either as the last good run
wrote it or complete from this run — never half-written — and the next run leaves no
temporary behind. Real processes, real kills; nothing is mocked."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecomkit import _io

OUTPUTS = ("scored.parquet", "stats.parquet")


def make_input(path: Path, seed: int, rows: int = 600_000) -> None:
    rng = np.random.default_rng(seed)
    categories = np.array([f"cat{i}" for i in range(40)])
    pq.write_table(pa.table({
        "category": categories[rng.integers(0, 40, rows)],
        "bsr": rng.lognormal(8, 2, rows),
        "reviews": rng.poisson(30, rows).astype(float),
    }), path)  # fmt: skip


def score_command(folder: Path, source: str) -> list[str]:
    return [str(Path(sys.executable).parent / "ecomkit"), "score", str(folder / source),
            "--output", str(folder / OUTPUTS[0]), "--group-stats-output", str(folder / OUTPUTS[1]),
            "--weights", "bsr=-1,reviews=1", "--by", "category", "--quiet"]  # fmt: skip


def contents(folder: Path) -> tuple[str, ...]:
    """A digest of each output as a table (so a half-written file fails to read here)."""
    digests = []
    for name in OUTPUTS:
        table = pq.read_table(folder / name)
        digests.append(hashlib.sha1(repr(table.to_pydict()).encode()).hexdigest())
    return tuple(digests)


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.tmp"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A folder with the outputs of the old input, and the digests of old and new outputs."""
    folder = tmp_path_factory.mktemp("faults")
    make_input(folder / "old.parquet", seed=1)
    make_input(folder / "new.parquet", seed=2)
    subprocess.run(score_command(folder, "new.parquet"), check=True)
    new = contents(folder)
    started = time.monotonic()
    subprocess.run(score_command(folder, "old.parquet"), check=True)
    duration = time.monotonic() - started
    return folder, contents(folder), new, duration


def test_a_step_killed_at_any_moment_leaves_old_or_new_outputs(runs):
    folder, old, new, duration = runs
    seen = []
    for fraction in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.97, 1.05):
        process = subprocess.Popen(score_command(folder, "new.parquet"))
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = contents(folder)  # each file reads as a whole table
        for name, digest, before, after in zip(OUTPUTS, state, old, new, strict=True):
            assert digest in (before, after), f"{name} is neither the old nor the new output"
        seen.append("new" if state == new else "old" if state == old else "mixed")
        subprocess.run(score_command(folder, "old.parquet"), check=True)  # back to old
        assert temporaries(folder) == [], "the next run removes a killed run's temporaries"
    # Killed early the outputs are the old ones; a run that ends before the kill wrote both.
    assert seen[0] == "old" and "new" in seen, seen


@pytest.mark.parametrize("limit", [1, 4096, 200_000, 2_000_000])
def test_a_write_that_fails_midway_is_one_line_and_keeps_the_old_outputs(runs, limit):
    folder, old, _, _ = runs

    def file_size_limit():  # CPython ignores SIGXFSZ: a write past the limit is EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(score_command(folder, "new.parquet"), preexec_fn=file_size_limit,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "File too large" in lines[0] and ".parquet'" in lines[0], lines
    assert contents(folder) == old
    assert temporaries(folder) == []


def test_a_killed_database_write_leaves_the_old_table_and_its_staging_is_dropped_later(
    postgres_uri,
):
    from ecomkit import _database

    target = f"{postgres_uri}#kill_target"
    _io.write_table(pa.table({"v": [1, 2, 3]}), target)
    # A run killed with SIGKILL after its rows are loaded, before the swap.
    killed = subprocess.run([sys.executable, "-c", f"""
import os, signal, pyarrow as pa
from ecomkit import _database
_database.write(pa.table({{"v": [9]}}), {target!r},
                stage=lambda swap, discard: os.kill(os.getpid(), signal.SIGKILL))
"""], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _io.read_table(target).column("v").to_pylist() == [1, 2, 3]

    prefix = f"_ecomkit_staging_{_database._digest('kill_target')}"

    def staging():
        scheme, uri, _ = _database._split(target, "test")
        with _database._connect(scheme, uri, "test") as connection, connection.cursor() as c:
            return sorted(t for t in _database._tables(c, scheme) if t.startswith(prefix))

    assert len(staging()) == 1  # the killed run's rows
    # Another host's fresh staging table may be a write in progress: it stays.
    other = (
        f"_ecomkit_staging_{_database._digest('kill_target')}_00000000_1_{int(time.time())}_beef"
    )
    old = f"_ecomkit_staging_{_database._digest('kill_target')}_00000000_1_1000000000_dead"
    for name in (other, old):
        _io.write_table(pa.table({"v": [0]}), f"{postgres_uri}#{name}")
    _io.write_table(pa.table({"v": [4]}), target)
    assert staging() == [other]  # the dead process's and the day-old one are gone
    assert _io.read_table(target).column("v").to_pylist() == [4]
    scheme, uri, _ = _database._split(target, "test")
    with _database._connect(scheme, uri, "test") as connection:
        _database._drop_quietly(connection, other)


def test_the_process_check_sees_live_and_dead_processes():
    assert _io.process_alive(os.getpid())
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    assert not _io.process_alive(int(finished.stdout))
