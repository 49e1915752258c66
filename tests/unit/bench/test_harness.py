"""bench/harness.py: medians and ratios, the alternating order of rounds, warm-up, the JSON line and
the goal check. Commands are replaced by a recording runner, except where a real process is the point
(a failing command, GNU time's output)."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

import harness
import pytest
from harness import BenchError, Command, Goal, Sample, Series


def cmd(name: str) -> Command:
    return Command(name, (name,))


class Recorder:
    """A runner that takes no time: run ``n`` of a command lasts ``times[name][n]`` seconds."""

    def __init__(self, times: dict[str, Sequence[float]]) -> None:
        self.times = times
        self.calls: list[str] = []

    def __call__(self, command: Command, rss: bool) -> Sample:
        index = sum(1 for name in self.calls if name == command.name)
        self.calls.append(command.name)
        return Sample(self.times[command.name][index], 10.0 * index if rss else None)


def test_median_of_odd_and_even_counts() -> None:
    assert harness.median([3.0, 1.0, 2.0]) == 2.0
    assert harness.median([4.0, 1.0, 3.0, 2.0]) == 2.5


def test_median_of_nothing_is_an_error() -> None:
    with pytest.raises(BenchError, match="no measured runs"):
        harness.median([])


def test_ratio_and_a_zero_baseline() -> None:
    assert harness.ratio(1.5, 3.0) == 0.5
    with pytest.raises(BenchError, match="baseline of 0"):
        harness.ratio(1.0, 0.0)


def test_two_sides_swap_every_round() -> None:
    a, b = cmd("a"), cmd("b")
    orders = [[c.name for c in harness.round_order([[a], [b]], i)] for i in range(4)]
    assert orders == [["a", "b"], ["b", "a"], ["a", "b"], ["b", "a"]]


def test_groups_rotate_and_keep_their_inner_order() -> None:
    groups = [[cmd("dive")], [cmd("export"), cmd("warm")], [cmd("layerdb")]]
    orders = [[c.name for c in harness.round_order(groups, i)] for i in range(4)]
    assert orders == [
        ["dive", "export", "warm", "layerdb"],
        ["export", "warm", "layerdb", "dive"],
        ["layerdb", "dive", "export", "warm"],
        ["dive", "export", "warm", "layerdb"],
    ]
    assert harness.round_order([], 3) == []


def test_measure_alternates_drops_the_warm_up_and_compares_medians() -> None:
    runner = Recorder({"ours": [99.0, 2.0, 4.0, 3.0], "base": [99.0, 4.0, 6.0, 5.0]})
    comparison = harness.measure(cmd("ours"), cmd("base"), runs=3, warmup=1, runner=runner)
    # round 0 (warm-up) baseline first, then the order swaps every round
    assert runner.calls == ["base", "ours", "ours", "base", "base", "ours", "ours", "base"]
    assert comparison.subject.all_s == [2.0, 4.0, 3.0]
    assert comparison.baseline.median_s == 5.0
    assert comparison.ratio == pytest.approx(3.0 / 5.0)
    assert comparison.subject.peak_rss_mib is None


def test_comparison_figures_keep_the_benches_json_keys() -> None:
    runner = Recorder({"ours": [1.0, 1.23456], "base": [1.0, 2.0]})
    figures = harness.measure(cmd("ours"), cmd("base"), runs=1, rss=True, runner=runner).figures()
    assert figures == {
        "median_s": {"base": 2.0, "ours": 1.235},
        "all_s": {"base": [2.0], "ours": [1.235]},
        "ratio": 0.6173,
        "peak_rss_mib": {"base": 10.0, "ours": 10.0},
    }


def test_run_rounds_asks_the_plan_for_every_round_and_counts_only_measured_runs() -> None:
    asked: list[int] = []

    def plan(index: int) -> list[list[Command]]:
        asked.append(index)
        return [[cmd("x")], [cmd("y"), cmd("z")]]

    runner = Recorder({name: [float(n) for n in range(5)] for name in "xyz"})
    series = harness.run_rounds(plan, runs=3, warmup=2, rss=True, runner=runner)
    assert asked == [0, 1, 2, 3, 4]
    assert list(series) == ["x", "y", "z"]  # the plan's order, whatever ran first
    assert series["x"].all_s == [2.0, 3.0, 4.0]
    assert series["z"].peak_rss_mib == 40.0


@pytest.mark.parametrize(("runs", "warmup"), [(0, 1), (2, -1)])
def test_run_rounds_refuses_no_runs(runs: int, warmup: int) -> None:
    with pytest.raises(BenchError, match="need runs >= 1"):
        harness.run_rounds(lambda _: [[cmd("x")]], runs=runs, warmup=warmup, runner=Recorder({}))


def test_a_name_twice_in_a_round_is_an_error() -> None:
    with pytest.raises(BenchError, match="repeat"):
        harness.run_rounds(lambda _: [[cmd("x")], [cmd("x")]], runs=1, runner=Recorder({"x": [0.0] * 4}))
    with pytest.raises(BenchError, match="both sides"):
        harness.measure(cmd("x"), cmd("x"), runs=1, runner=Recorder({"x": [0.0] * 4}))


def test_series_line() -> None:
    series = Series("dive", (Sample(2.0, 50.0), Sample(4.0, 61.25)))
    assert series.line(6) == "dive   median 3.00s  [2.0, 4.0]  peak RSS 61.2 MiB"


def test_a_goal_is_met_at_its_limit_and_says_when_missed() -> None:
    assert Goal("ratio", "ratio a/b =", 1.03, 1.03).met
    missed = Goal("rss", "peak RSS", 81.04, 80.0, "MiB", 1)
    assert not missed.met
    assert missed.line() == "peak RSS 81.0 MiB (goal <= 80 MiB)  MISSED"


def test_report_as_json_is_one_line_with_the_goals_verdicts() -> None:
    out = io.StringIO()
    goals = [Goal("ratio", "r", 0.5, 1.0), Goal("rss", "m", 90.0, 80.0)]
    status = harness.report({"runs": 2, "ratio": 0.5}, ["human"], goals, as_json=True, check=False, out=out)
    assert status == 0  # a missed goal fails the bench only with --check
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"runs": 2, "ratio": 0.5, "goals_met": {"ratio": True, "rss": False}}


def test_report_as_text_and_the_check() -> None:
    out = io.StringIO()
    goals = [Goal("ratio", "ratio a/b =", 1.2, 1.0)]
    assert harness.report({}, ["a  median 1.00s"], goals, as_json=False, check=True, out=out) == 1
    assert out.getvalue() == "a  median 1.00s\nratio a/b = 1.200 (goal <= 1)  MISSED\n"
    met = [Goal("ratio", "ratio a/b =", 0.9, 1.0)]
    assert harness.report({}, [], met, as_json=False, check=True, out=io.StringIO()) == 0


def test_python_env_gets_a_bytecode_cache(tmp_path: Path) -> None:
    base = {"PATH": "/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    env = harness.python_env(tmp_path, base)
    assert env == {"PATH": "/bin", "PYTHONPYCACHEPREFIX": str(tmp_path)}
    assert "PYTHONDONTWRITEBYTECODE" in base


def test_a_failing_command_is_one_error_line() -> None:
    script = "import sys; sys.stderr.write('boom'); sys.exit(3)"
    failing = Command("f", (sys.executable, "-c", script))
    with pytest.raises(BenchError, match=r"exited 3: boom$"):
        harness.run_once(failing)
    tolerated = Command("f", failing.argv, ok=(0, 3))
    assert harness.run_once(tolerated).wall_s > 0


def test_peak_rss_is_read_from_gnu_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in for GNU time: `time -f %M -o FILE CMD...` writing what GNU time writes for a command
    # that exited 1, and exiting as the command did.
    fake = tmp_path / "time"
    fake.write_text('#!/bin/sh\nprintf "Command exited with non-zero status 1\\n2048\\n" > "$4"\nexit 1\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(harness, "GNU_TIME", str(fake))
    assert harness.run_once(Command("d", ("dive",), ok=(0, 1)), rss=True).rss_mib == 2.0
    monkeypatch.setattr(harness, "GNU_TIME", str(tmp_path / "missing"))
    with pytest.raises(BenchError, match="apt-get install time"):
        harness.run_once(Command("d", ("dive",)), rss=True)


def test_runs_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    parser = harness.arguments("A bench.\n\nMore.", runs=5)
    args = parser.parse_args([])
    assert (args.runs, args.json, args.check) == (5, False, False)
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["--runs", "0"])
    assert exited.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_main_turns_a_bench_error_into_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    def body() -> int:
        raise BenchError("dive not found")

    with pytest.raises(SystemExit) as exited:
        harness.main(body)
    assert exited.value.code == 2
    assert capsys.readouterr().err == "bench: dive not found\n"
    with pytest.raises(SystemExit) as exited:
        harness.main(lambda: 1)
    assert exited.value.code == 1


def test_settle_syncs_and_waits_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(harness.time, "sleep", slept.append)
    monkeypatch.setattr(os, "sync", lambda: slept.append(-1.0))
    harness.settle(0.0)
    harness.settle(2.0)
    assert slept == [-1.0, 2.0]
