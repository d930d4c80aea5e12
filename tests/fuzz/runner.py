# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs the fuzz targets in child processes, so a crash or a hang is caught and its input kept.

    python tests/fuzz/runner.py --minutes 30 [--targets validate,render,...] [--jobs 2] [--save]
    python tests/fuzz/runner.py child TARGET SECONDS SEED INFLIGHT RESULT [--examples N]

Structured targets (targets.py, hypothesis): the child writes each recipe to an in-flight file
before running it; a child that dies by a signal, or whose in-flight file stops changing for
`HANG_SECONDS`, leaves that recipe behind, and the parent keeps it (shrunk by dropping mutations
while the crash remains) as a regression input, then starts a new child for the time left. An
unexpected exception is shrunk by hypothesis inside the child.

Byte targets (byte_targets.py, atheris): libFuzzer runs in a child with a corpus folder, a
timeout per input and a memory limit; whatever input it reports (crash, timeout, out of memory)
is kept the same way.

With --save, findings go to tests/fuzz/regressions/ (replayed by tests/fuzz/test_regressions.py);
a summary (cases, crashes, hangs, errors per target) is printed and written as JSON (--summary).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGRESSIONS = HERE / "regressions"
STRUCTURED = ("validate", "files", "render", "intersect")
BYTES = ("load_scene", "sequence")
HANG_SECONDS = 30.0  # one case taking longer is a hang
STARTUP_SECONDS = 300.0  # a child that has not begun its first case by then is stuck
CHILD_MEMORY = 3 << 30  # address space of a child: a runaway allocation is a MemoryError, not the OOM killer


@dataclass
class Finding:
    target: str
    kind: str  # 'crash' (signal), 'hang', 'error' (unexpected exception), 'oom'
    detail: str
    input: dict | str  # a recipe, or the path of a byte input
    saved: str = ""


@dataclass
class Summary:
    target: str
    cases: int = 0
    seconds: float = 0.0
    children: int = 0
    findings: list[Finding] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(f.kind == kind for f in self.findings)

    def line(self) -> str:
        return (f"{self.target:<11} {self.cases:>9} cases  {self.seconds:7.1f} s  crashes {self.count('crash')}  "
                f"hangs {self.count('hang')}  errors {self.count('error')}  oom {self.count('oom')}")


# --------------------------------------------------------------------------------------------
# The child (structured targets)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def child(target: str, seconds: float, seed: int, inflight: str, result: str, examples: int) -> int:
    """Runs hypothesis over `target` until `seconds` pass or `examples` cases ran."""
    sys.path.insert(0, str(HERE))
    _limit_memory()
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    import targets

    run, strategy = targets.TARGETS[target], targets.STRATEGIES[target]()
    fd = os.open(inflight, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    state = {"cases": 0, "failing": None}
    deadline = time.monotonic() + seconds

    def case(recipe):
        state["cases"] += 1
        record = json.dumps({"cases": state["cases"], "recipe": recipe}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
        try:
            run(recipe)
        except targets.Finding:
            state["failing"] = recipe
            raise

    batch = 0
    outcome = {"cases": 0, "finding": None}
    while time.monotonic() < deadline and state["cases"] < examples:
        n = min(500, examples - state["cases"])
        test = settings(max_examples=n, deadline=None, database=None, derandomize=False,
                        suppress_health_check=list(HealthCheck), print_blob=False)(given(strategy)(case))
        try:
            hypothesis_seed(seed * 100_003 + batch)(test)()
        except targets.Finding as finding:
            outcome["finding"] = {"recipe": state["failing"], "detail": str(finding)}
            break
        batch += 1
    outcome["cases"] = state["cases"]
    Path(result).write_text(json.dumps(outcome))
    os.close(fd)
    return 0


# --------------------------------------------------------------------------------------------
# The parent


def _env(tmp: str) -> dict:
    # Children put their temporary files in a folder the parent removes, even after a crash.
    return dict(os.environ, TMPDIR=tmp, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))


def _replay(target: str, recipe: dict, tmp: str, timeout: float = HANG_SECONDS) -> str | None:
    """How `recipe` ends in a fresh child: None when it passes, else 'crash …' / 'hang' / 'error …'."""
    code = ("import sys, json; sys.path.insert(0, %r); import runner; runner._limit_memory(); import targets; "
            "targets.TARGETS[%r](json.loads(sys.argv[1]))" % (str(HERE), target))
    try:
        res = subprocess.run([sys.executable, "-c", code, json.dumps(recipe)], capture_output=True, text=True,
                             timeout=timeout, env=_env(tmp))
    except subprocess.TimeoutExpired:
        return "hang"
    if res.returncode < 0:
        return f"crash: {signal.Signals(-res.returncode).name}"
    if res.returncode != 0:
        return "error: " + (res.stderr.strip().splitlines() or ["?"])[-1]
    return None


def shrink(target: str, recipe: dict, tmp: str, timeout: float = HANG_SECONDS) -> dict:
    """Drops mutations one at a time while the recipe still fails the same way."""
    how = _replay(target, recipe, tmp, timeout)
    if how is None:
        return recipe
    kind = how.split(":")[0]
    mutations = list(recipe.get("mutations", []))
    i = 0
    while i < len(mutations):
        trial = dict(recipe, mutations=mutations[:i] + mutations[i + 1:])
        again = _replay(target, trial, tmp, timeout)
        if again is not None and again.split(":")[0] == kind:
            mutations = trial["mutations"]
        else:
            i += 1
    return dict(recipe, mutations=mutations)


def _save(finding: Finding, data: bytes, suffix: str, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{finding.target}-{finding.kind}-{hashlib.sha256(data).hexdigest()[:12]}{suffix}"
    (folder / name).write_bytes(data)
    return str(folder / name)


def run_structured(target: str, seconds: float, seed: int = 0, examples: int = 10**9, save: Path | None = None,
                   log=print, hang_seconds: float = HANG_SECONDS) -> Summary:
    """Fuzzes `target` for `seconds` in children (see the module docstring); findings are kept in
    `save` (a folder) when given."""
    summary = Summary(target)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"optica-fuzz-{target}-") as tmp:
        inflight, result = os.path.join(tmp, "inflight.json"), os.path.join(tmp, "result.json")
        while (left := seconds - (time.monotonic() - t0)) > 0.5 and summary.cases < examples:
            for stale in (inflight, result):
                Path(stale).unlink(missing_ok=True)
            summary.children += 1
            finding = _run_child(target, left, seed + summary.children, inflight, result, examples - summary.cases,
                                 tmp, summary, hang_seconds)
            if finding is not None:
                if finding.kind != "error":
                    finding.input = shrink(target, finding.input, tmp, hang_seconds)
                if save is not None:
                    document = {"target": target, **finding.input, "found": f"{finding.kind}: {finding.detail}"}
                    finding.saved = _save(finding, json.dumps(document, indent=1).encode(), ".json", save)
                summary.findings.append(finding)
                log(f"[fuzz] {target}: {finding.kind}: {finding.detail} {finding.saved}")
    summary.seconds = time.monotonic() - t0
    return summary


def _run_child(target, seconds, seed, inflight, result, examples, tmp, summary, hang_seconds) -> Finding | None:
    cmd = [sys.executable, str(HERE / "runner.py"), "child", target, f"{seconds:.1f}", str(seed), inflight, result,
           "--examples", str(examples)]
    # stderr goes to a file, not a pipe: nobody reads a pipe while the child runs, and a child
    # that fills one (64 KiB of warnings) blocks in write() and looks exactly like a hang.
    stderr_path = os.path.join(tmp, "child-stderr.txt")
    with open(stderr_path, "w") as stderr_file:
        proc = subprocess.Popen(cmd, env=_env(tmp), stdout=subprocess.DEVNULL, stderr=stderr_file, text=True)
    last_change, last_stamp, hung = time.monotonic(), None, False
    while proc.poll() is None:
        time.sleep(0.2)
        stamp = _stamp(inflight)
        # The clock runs from the first case on: starting a child (imports) is not a case.
        limit = hang_seconds if last_stamp is not None else STARTUP_SECONDS
        if stamp != last_stamp:
            last_change, last_stamp = time.monotonic(), stamp
        elif time.monotonic() - last_change > limit:
            hung = True
            proc.kill()
    proc.wait()
    stderr = Path(stderr_path).read_text(errors="replace")
    inflight_record = _read_json(inflight)
    if Path(result).is_file():
        outcome = _read_json(result)
        summary.cases += outcome["cases"]
        if outcome["finding"]:
            return Finding(target, "error", outcome["finding"]["detail"], outcome["finding"]["recipe"])
        return None
    summary.cases += (inflight_record or {}).get("cases", 0)
    recipe = (inflight_record or {}).get("recipe", {})
    if hung:
        return Finding(target, "hang", f"a case ran over {hang_seconds:.0f} s", recipe)
    if proc.returncode < 0:
        return Finding(target, "crash", signal.Signals(-proc.returncode).name, recipe)
    return Finding(target, "crash", f"exit status {proc.returncode}: {stderr.strip()[-500:]}", recipe)


def _stamp(path: str):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def _read_json(path: str):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# Byte targets (atheris)


_RUNS = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_PROGRESS = re.compile(r"^#(\d+)\s", re.MULTILINE)  # libFuzzer's progress lines, when it had no time for stats


def run_bytes(target: str, seconds: float, corpus: Path | None = None, save: Path | None = None, log=print) -> Summary:
    """libFuzzer over byte target `target` for `seconds`; findings kept in `save` when given."""
    summary = Summary(target)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"optica-fuzz-{target}-") as tmp:
        seeds = Path(tmp) / "seeds"
        subprocess.run([sys.executable, str(HERE / "byte_targets.py"), "seeds", target, str(seeds)], check=True,
                       env=_env(tmp), capture_output=True)
        for kept in sorted(REGRESSIONS.glob(f"{target}-*.bin")):
            shutil.copy(kept, seeds / kept.name)
        corpus = corpus or Path(tmp) / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        artifacts = Path(tmp) / "artifacts"
        artifacts.mkdir()
        t0 = time.monotonic()  # the seeds took their time (instrumented imports): fuzz for `seconds`
        while (left := seconds - (time.monotonic() - t0)) > 1.0:
            summary.children += 1
            cmd = [sys.executable, str(HERE / "byte_targets.py"), target, f"-max_total_time={int(max(1, left))}",
                   f"-timeout={int(HANG_SECONDS)}", "-rss_limit_mb=4096", "-malloc_limit_mb=4096", "-max_len=65536",
                   "-print_final_stats=1", f"-artifact_prefix={artifacts}/", f"-seed={summary.children}",
                   str(corpus), str(seeds)]
            log_path = Path(tmp) / f"libfuzzer-{summary.children}.log"
            with open(log_path, "w") as log_file:
                proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, text=True, env=_env(tmp))
                stopped = _stop_at(proc, left + 60)  # + its start: instrumented imports, seeds
            output = log_path.read_text(errors="replace")
            executed = _RUNS.findall(output) or _PROGRESS.findall(output)[-1:]
            summary.cases += sum(int(n) for n in executed)
            written = _ARTIFACT.findall(output)
            returncode = proc.returncode
            if (returncode == 0 or stopped) and not written:
                continue
            if not written:
                kind = "hang" if returncode == -signal.SIGKILL else "crash"
                summary.findings.append(Finding(target, kind, f"exit status {returncode}: {output.strip()[-800:]}", ""))
                break
            res = subprocess.CompletedProcess(cmd, returncode, "", output)
            path = Path(written[-1])
            kind = "hang" if path.name.startswith("timeout") else "oom" if path.name.startswith("oom") else (
                "error" if "Uncaught Python exception" in res.stderr else "crash")
            detail = _python_error(res.stderr) or res.stderr.strip()[-300:]
            finding = Finding(target, kind, detail, str(path))
            if save is not None:
                finding.saved = _save(finding, path.read_bytes(), ".bin", save)
            summary.findings.append(finding)
            log(f"[fuzz] {target}: {kind}: {detail} {finding.saved}")
    summary.seconds = time.monotonic() - t0
    return summary


def _stop_at(proc: subprocess.Popen, seconds: float) -> bool:
    """Waits for libFuzzer; past `seconds` interrupts it (atheris 3.0 on Python 3.11 does not always
    honour -max_total_time here), then kills it. True when it had to be stopped."""
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return True


def _python_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if re.match(r"^\w+(Error|Exception)\b", line)]
    return lines[-1] if lines else ""


# --------------------------------------------------------------------------------------------
# Command line


# Time shares: a byte target gets half a structured target's (the structured cases are the ones
# counted towards the 100,000; libFuzzer's coverage of the file readers saturates early).
WEIGHTS = {**dict.fromkeys(STRUCTURED, 2.0), **dict.fromkeys(BYTES, 1.0)}


def run_all(minutes: float, names: list[str], jobs: int, save: Path | None, log=print) -> list[Summary]:
    budget = minutes * 60.0 * jobs
    total_weight = sum(WEIGHTS[name] for name in names)

    def one(name):
        share = budget * WEIGHTS[name] / total_weight
        if name in BYTES:
            return run_bytes(name, share, save=save, log=log)
        return run_structured(name, share, seed=int(time.time()) % 100_000, save=save, log=log)

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, names))


def main(argv: list[str]) -> int:
    if argv[:1] == ["child"]:
        p = argparse.ArgumentParser()
        p.add_argument("target")
        p.add_argument("seconds", type=float)
        p.add_argument("seed", type=int)
        p.add_argument("inflight")
        p.add_argument("result")
        p.add_argument("--examples", type=int, default=10**9)
        a = p.parse_args(argv[1:])
        return child(a.target, a.seconds, a.seed, a.inflight, a.result, a.examples)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=5.0, help="wall-clock time of the whole run")
    p.add_argument("--targets", default=",".join(STRUCTURED + BYTES))
    p.add_argument("--jobs", type=int, default=2, help="targets fuzzed at once (cores)")
    p.add_argument("--save", action="store_true", help="keep findings in tests/fuzz/regressions/")
    p.add_argument("--summary", help="write the summary as JSON here")
    a = p.parse_args(argv)
    names = [n for n in a.targets.split(",") if n]
    unknown = set(names) - set(STRUCTURED + BYTES)
    if unknown:
        p.error(f"unknown targets {sorted(unknown)} (known: {', '.join(STRUCTURED + BYTES)})")
    summaries = run_all(a.minutes, names, max(1, a.jobs), REGRESSIONS if a.save else None)
    print("[fuzz] summary")
    for s in summaries:
        print("[fuzz] " + s.line())
    total = sum(s.cases for s in summaries if s.target in STRUCTURED)
    findings = sum(len(s.findings) for s in summaries)
    print(f"[fuzz] structured cases {total}, byte-fuzzer executions "
          f"{sum(s.cases for s in summaries if s.target in BYTES)}, findings {findings}")
    if a.summary:
        Path(a.summary).write_text(json.dumps([asdict(s) for s in summaries], indent=1))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
