"""The watch folder: requests from folders and sidecars, readiness, outputs, failures, and the journal
(a separate watcher process is SIGKILLed mid-batch and restarted: nothing lost, nothing twice)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from daw_bridge import watch
from daw_bridge.eq import EQParams
from daw_bridge.errors import SemeqError

TESTS_DIR = Path(__file__).resolve().parent
FAST = watch.WatchConfig(settle_s=0.2, corrupt_after_s=0.6, poll_s=0.05, busy_retry_s=0.01)

# --- a stand-in for daw_bridge.service.Service ---------------------------------------------------

#: The fake's vocabulary: a word -> a fixed EQ (the real decisions are the service's own tests).
FAKE_WORDS = {
    "warmer": EQParams(3.0, 150.0, 1.0, 300.0, 0.8, 0.0, 1000.0, 0.71, -1.5, 4000.0, 1.0, -2.0, 8000.0),
    "brighter": EQParams(-1.0, 150.0, 0.0, 300.0, 0.8, 1.0, 2000.0, 0.71, 2.0, 5000.0, 1.0, 3.0, 9000.0),
    "a bit less harsh": EQParams(0.0, 100.0, 0.0, 300.0, 0.8, -2.0, 3000.0, 1.5, -1.0, 5000.0, 1.0, 0.0, 9000.0),
}


class FakeService:
    """Same ops, fields and answer JSON as :class:`daw_bridge.service.Service` (the answer is built by
    the real ``eq_answer``, the audio read by the real ``read_audio`` and measured by the real
    ``analysis.band_spectrum``, rendered by the real ``render_file``), with a fixed EQ per word so
    that the door is tested alone.

    ``busy_first`` answers "busy" to that many audio requests first; ``delay_s`` slows every audio
    request (so a kill can land mid-batch); ``gate`` (an event) holds every request until it is set
    (so a test's step lands while a job runs, however loaded the machine); ``calls`` records every request."""

    def __init__(self, delay_s: float = 0.0, busy_first: int = 0, gate: threading.Event | None = None) -> None:
        self.delay_s = delay_s
        self.gate = gate
        self.busy_left = busy_first
        self.calls: list[dict] = []
        self._lock = threading.Lock()

    def handle(self, request: dict) -> dict:
        from daw_bridge.answers import error_answer

        with self._lock:
            self.calls.append(dict(request))
            if request["op"] != "eq" and self.busy_left > 0:
                self.busy_left -= 1
                return error_answer(request["id"], request["op"], "busy", "the server is busy")
        time.sleep(self.delay_s)
        if self.gate is not None:
            self.gate.wait(30.0)
        try:
            return self._answer(request)
        except SemeqError as exc:
            return error_answer(request["id"], request["op"], exc.code, str(exc))

    def _analysis(self, path: str) -> dict:
        from daw_bridge.analysis import band_spectrum
        from daw_bridge.audio import read_audio

        audio = read_audio(path)
        spectrum = band_spectrum(audio.samples, audio.sample_rate_hz)
        return {
            "duration_s": audio.samples.shape[0] / audio.sample_rate_hz,
            "bands": [
                {"centre_hz": float(f), "valid": bool(v), "level_db": float(p) if v else None}
                for f, v, p in zip(spectrum.centres_hz, spectrum.valid, spectrum.power_db)
            ],
        }

    def _answer(self, request: dict) -> dict:
        from daw_bridge.answers import eq_answer

        op, rid = request["op"], request["id"]
        if op == "render":  # the real renderer, as the service's render op runs it
            from daw_bridge.audio import render_file

            report = render_file(request["path"], request["output"], EQParams.from_dict(request["params"]),
                                 force=request.get("overwrite", False))
            return {"ok": True, "op": op, "id": rid, "path": request["path"], "output": request["output"],
                    "render": report.to_dict()}
        if op == "analyze":
            return {"ok": True, "op": op, "id": rid, "path": request["path"], **self._analysis(request["path"])}
        extra = {}
        if op in ("adapt", "suggest"):  # like the real decisions: descriptor scores before
            self._analysis(request["path"])
            extra["analysis"] = [{"term": "warm", "score": 0.1}]
        if op == "suggest":
            params = FAKE_WORDS["warmer"].scaled(request["strength"])
        else:
            if request["text"] not in FAKE_WORDS:
                raise SemeqError(f"'{request['text']}' is not a word I know", code="unknown_term")
            params = FAKE_WORDS[request["text"]].scaled(request.get("intensity", 1.0))
        return eq_answer(op, rid, params, text=request.get("text"), explanation="fake", extra=extra)


# --- helpers --------------------------------------------------------------------------------------


def write_tone(path: Path, seconds: float = 0.5, sr: int = 44100, channels: int = 2, subtype: str = "PCM_16", seed: int = 0, level: float = 0.2) -> np.ndarray:
    """A short full-band test signal (noise plus a tone), written with soundfile; returns the samples."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = level * (0.5 * rng.standard_normal((t.size, channels)) * 0.3 + np.sin(2 * np.pi * 220 * t)[:, None] * 0.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sr, subtype=subtype)
    return x


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def output_sets(outbox: Path) -> dict[str, dict]:
    """The complete output sets in ``outbox`` keyed by the json's input; asserts each set is whole."""
    sets = {}
    for js in outbox.glob("*.json"):
        record = json.loads(js.read_text())
        for name in record["outputs"]:
            assert (outbox / name).is_file(), f"{name} of {js.name} is missing"
        assert record["input"] not in sets, f"two output sets for {record['input']}"
        sets[record["input"]] = record
    return sets


# --- requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, slug",
    [("warmer", "warmer"), ("A bit less  HARSH!", "a-bit-less-harsh"), ("wärmer", "warmer"), ("!!!", "eq"), ("x" * 80, "x" * 48)],
)
def test_slugify(text, slug):
    assert watch.slugify(text) == slug


@pytest.mark.parametrize(
    "folder, sidecar, expected",
    [
        (None, None, ("suggest", None, 1.0, 0.5, "suggest-50")),
        ("warmer", None, ("adapt", "warmer", 1.0, 0.5, "warmer")),
        ("a-bit_less harsh", None, ("adapt", "a bit less harsh", 1.0, 0.5, "a-bit-less-harsh")),
        ("suggest-30", None, ("suggest", None, 1.0, 0.3, "suggest-30")),
        ("Auto-Suggest", None, ("suggest", None, 1.0, 0.5, "suggest-50")),
        (None, {"text": "warmer", "intensity": 0.5}, ("adapt", "warmer", 0.5, 0.5, "warmer-x0.5")),
        (None, {"text": "warmer", "fixed": True}, ("eq", "warmer", 1.0, 0.5, "warmer-fixed")),
        (None, {"suggest": True, "strength": 0.25}, ("suggest", None, 1.0, 0.25, "suggest-25")),
        ("warmer", {"suggest": True}, ("suggest", None, 1.0, 0.5, "suggest-50")),
        ("warmer", {"intensity": 2}, ("adapt", "warmer", 2.0, 0.5, "warmer-x2")),
        ("suggest", {"strength": 1.0}, ("suggest", None, 1.0, 1.0, "suggest-100")),
    ],
)
def test_resolve_request(folder, sidecar, expected):
    r = watch.resolve_request(folder, sidecar)
    assert (r.op, r.text, r.intensity, r.strength, r.slug()) == expected


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('["warmer"]', "must be a JSON object"),
        ('{"txt": "warmer"}', "unknown keys txt"),
        ('{"text": ""}', "'text' must be the words"),
        ('{"suggest": "yes"}', "true or false"),
        ('{"suggest": true, "strength": 2}', "outside 0 .. 1"),
        ('{"text": "warm", "intensity": "high"}', "must be a number"),
        ('{"text": "warm", "current": {"low_shelf_gain_db": 3}}', "'current' must be the EQ on the track"),
    ],
)
def test_bad_sidecars_are_refused_with_a_reason(tmp_path, content, message):
    path = tmp_path / "song.json"
    path.write_text(content)
    with pytest.raises(watch.WatchError, match=message):
        watch.read_sidecar(path)


def test_a_sidecar_current_eq_travels_with_the_request_and_the_journal():
    from daw_bridge.eq import EQParams

    current = EQParams(3.0, 120.0, 1.0, 300.0, 1.0, 0.0, 1000.0, 1.0, 0.0, 4000.0, 1.0, -1.0, 8000.0).to_dict()
    r = watch.resolve_request(None, {"text": "warmer", "current": current})
    assert r.service_request(Path("/x/song.wav"), "id1")["current"] == current
    assert watch.WatchRequest.from_dict(r.to_dict()) == r
    assert "current" not in watch.resolve_request(None, {"text": "warmer"}).service_request(Path("/x/a.wav"), "i")
    with pytest.raises(watch.WatchError, match="needs words"):
        watch.resolve_request(None, {"current": current})


def test_contradictory_requests_are_refused():
    with pytest.raises(watch.WatchError, match="choose one"):
        watch.resolve_request(None, {"text": "warmer", "suggest": True})
    with pytest.raises(watch.WatchError, match="needs words"):
        watch.resolve_request(None, {"intensity": 0.5})
    with pytest.raises(watch.WatchError, match="0 to 100"):
        watch.resolve_request("suggest-150", None)


@pytest.mark.parametrize(
    "name, ignored",
    [(".hidden.wav", True), ("song.wav.part", True), ("song.tmp", True), ("song.wav~", True), ("~$song.wav", True),
     ("song.crdownload", True), ("Thumbs.db", True), ("song.wav", False), ("song.flac", False), ("my song (final).wav", False)],
)
def test_ignored_names(name, ignored):
    assert watch.is_ignored(name) is ignored


def test_unique_name_skips_existing_and_reserved(tmp_path):
    (tmp_path / "song.warmer.wav").touch()
    (tmp_path / "song.warmer-2.png").touch()
    assert watch.unique_name(tmp_path, "song.warmer", (".wav", ".png"), {"song.warmer-3"}) == "song.warmer-4"
    assert watch.unique_name(tmp_path, "other", (".wav",)) == "other"


def test_settle_counts_unchanged_time_only():
    now = [0.0]
    settle = watch.Settle(clock=lambda: now[0])
    p = Path("a.wav")
    assert settle.observe(p, (10, 1)) == 0.0
    now[0] = 0.7
    assert settle.observe(p, (10, 1)) == pytest.approx(0.7)
    now[0] = 1.0
    assert settle.observe(p, (20, 2)) == 0.0  # grew: starts again
    now[0] = 1.5
    assert settle.observe(p, (20, 2)) == pytest.approx(0.5)


# --- processing ---------------------------------------------------------------------------------


def test_one_pass_processes_every_kind_of_drop(tmp_path):
    home = tmp_path / "home"
    inbox = home / "inbox"
    x_plain = write_tone(inbox / "song.wav", subtype="PCM_24", sr=48000)
    write_tone(inbox / "warmer" / "take.flac", channels=1, sr=44100, subtype="PCM_16", seed=1)
    write_tone(inbox / "mix.wav", subtype="FLOAT", seed=2)
    (inbox / "mix.json").write_text('{"text": "a bit less harsh", "intensity": 0.5}')
    for ignored in (".hidden.wav", "upload.wav.part", "notes.tmp", "old.wav~"):
        write_tone(inbox / ignored) if ignored.endswith(".wav") else (inbox / ignored).write_text("x")
    (inbox / "orphan.json").write_text('{"text": "warmer"}')
    lines: list[str] = []
    results = watch.process_pending(FakeService(), home, FAST, log=lines.append)

    assert sorted((r.source, r.status) for r in results) == [("mix.wav", "done"), ("song.wav", "done"), ("warmer/take.flac", "done")]
    outbox = home / "outbox"
    assert files_under(outbox) == sorted(
        [f"song.suggest-50{s}" for s in (".wav", ".png", ".lua", ".json")]
        + [f"take.warmer{s}" for s in (".flac", ".png", ".lua", ".json")]
        + [f"mix.a-bit-less-harsh-x0.5{s}" for s in (".wav", ".png", ".lua", ".json")]
    )
    # same format, rate, channels and bit depth as each input; same length
    for out, (sr, ch, subtype, fmt) in {
        "song.suggest-50.wav": (48000, 2, "PCM_24", "WAV"),
        "take.warmer.flac": (44100, 1, "PCM_16", "FLAC"),
        "mix.a-bit-less-harsh-x0.5.wav": (44100, 2, "FLOAT", "WAV"),
    }.items():
        info = sf.info(str(outbox / out))
        assert (info.samplerate, info.channels, info.subtype, info.format) == (sr, ch, subtype, fmt)
    assert sf.info(str(outbox / "song.suggest-50.wav")).frames == x_plain.shape[0]
    record = json.loads((outbox / "mix.a-bit-less-harsh-x0.5.json").read_text())
    assert record["request"]["op"] == "adapt" and record["request"]["intensity"] == 0.5
    assert record["ok"] is True and record["op"] == "adapt"
    assert record["params"] == {k: round(v, 4) for k, v in FAKE_WORDS["a bit less harsh"].scaled(0.5).to_dict().items()}
    assert len(record["reaeq"]["bands"]) == 5
    assert abs(record["render"]["loudness_out_lufs"] - record["render"]["loudness_in_lufs"]) <= 0.5
    assert record["analysis"] == [{"term": "warm", "score": 0.1}]  # the answer's own member, untouched
    assert record["analysis_before"]["bands"] and record["analysis_after"]["bands"]
    # inputs moved with their sidecar and words folder; ignored files untouched; the orphan sidecar waits
    assert files_under(home / "done") == ["mix.json", "mix.wav", "song.wav", "warmer/take.flac"]
    assert files_under(inbox) == [".hidden.wav", "notes.tmp", "old.wav~", "orphan.json", "upload.wav.part"]
    assert sf.read(str(home / "done" / "song.wav"))[0].shape == x_plain.shape
    assert len([l for l in lines if "done" in l]) == 3


def test_sidecar_forms_and_a_sidecar_shared_by_two_files(tmp_path):
    home = tmp_path / "home"
    inbox = home / "inbox"
    write_tone(inbox / "both.wav")
    write_tone(inbox / "both.flac", seed=1)
    (inbox / "both.json").write_text('{"text": "brighter"}')
    write_tone(inbox / "one.wav", seed=2)
    (inbox / "one.wav.json").write_text('{"suggest": true, "strength": 0.2}')
    results = watch.process_pending(FakeService(), home, FAST, log=lambda line: None)
    outputs = {r.source: r.outputs[0] for r in results}
    assert outputs["one.wav"] == "one.suggest-20.wav"
    # both.* share the names of their plot, ReaScript and answer, so the second set gets "-2"
    assert sorted([outputs["both.wav"].replace(".wav", ""), outputs["both.flac"].replace(".flac", "")]) == [
        "both.brighter", "both.brighter-2"]
    done = files_under(home / "done")
    assert "one.wav.json" not in done and "one.json" in done  # the sidecar follows its audio's name
    # each audio keeps a copy of the shared sidecar under its own name in done/
    both = sorted(p for p in done if p.startswith("both"))
    assert sorted(Path(p).stem for p in both) == ["both", "both", "both-2", "both-2"]
    assert {Path(p).suffix for p in both} == {".json", ".wav", ".flac"}
    assert all(json.loads((home / "done" / p).read_text()) == {"text": "brighter"} for p in both if p.endswith(".json"))
    assert [p for p in files_under(inbox)] == []


def test_failures_go_to_failed_with_a_sentence(tmp_path):
    home = tmp_path / "home"
    inbox = home / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    sf.write(str(inbox / "silence.wav"), np.zeros((22050, 2)), 44100)
    write_tone(inbox / "xyzzy" / "take.wav")
    write_tone(inbox / "typo.wav")
    (inbox / "typo.json").write_text('{"txt": "warmer"}')
    results = watch.process_pending(FakeService(), home, FAST, log=lambda line: None)

    assert sorted((r.source, r.status) for r in results) == [
        ("corrupt.wav", "failed"), ("silence.wav", "failed"), ("typo.wav", "failed"), ("xyzzy/take.wav", "failed")]
    assert files_under(home / "outbox") == []
    assert files_under(home / "failed") == [
        "corrupt.error.txt", "corrupt.wav", "silence.error.txt", "silence.wav",
        "typo.error.txt", "typo.json", "typo.wav", "xyzzy/take.error.txt", "xyzzy/take.wav"]
    reasons = {p: (home / "failed" / p).read_text() for p in ("corrupt.error.txt", "silence.error.txt", "typo.error.txt", "xyzzy/take.error.txt")}
    assert "not an audio file" in reasons["corrupt.error.txt"]
    assert "silent" in reasons["silence.error.txt"]
    assert "unknown keys txt" in reasons["typo.error.txt"]
    assert "'xyzzy' is not a word I know" in reasons["xyzzy/take.error.txt"]
    for name, text in reasons.items():
        assert text.startswith(f"{Path(name).name.replace('.error.txt', '.wav')} could not be processed: ")


def test_nothing_is_ever_overwritten(tmp_path):
    home = tmp_path / "home"
    for folder in ("outbox", "done"):
        (home / folder).mkdir(parents=True)
    (home / "outbox" / "song.warmer.png").write_text("someone else's")
    (home / "done" / "warmer").mkdir()
    (home / "done" / "warmer" / "song.wav").write_text("an earlier song")
    write_tone(home / "inbox" / "warmer" / "song.wav")
    watch.process_pending(FakeService(), home, FAST, log=lambda line: None)
    write_tone(home / "inbox" / "warmer" / "song.wav", seed=5)
    watch.process_pending(FakeService(), home, FAST, log=lambda line: None)

    assert (home / "outbox" / "song.warmer.png").read_text() == "someone else's"
    assert (home / "done" / "warmer" / "song.wav").read_text() == "an earlier song"
    assert {"song.warmer-2.wav", "song.warmer-3.wav"} <= set(files_under(home / "outbox"))
    assert files_under(home / "done") == ["warmer/song-2.wav", "warmer/song-3.wav", "warmer/song.wav"]


def test_each_file_is_analysed_once_and_rendered_by_the_service(tmp_path):
    home = tmp_path / "home"
    write_tone(home / "inbox" / "warmer" / "a.wav")
    service = FakeService()
    watch.process_pending(service, home, FAST, log=lambda line: None)
    ops = [(c["op"], Path(c["path"]).name) for c in service.calls]
    # the input analysed once (the service keeps that analysis for adapt), the render once
    assert ops == [("analyze", "a.wav"), ("adapt", "a.wav"), ("render", "a.wav"), ("analyze", "out.wav")]
    assert service.calls[2]["overwrite"] is True and Path(service.calls[2]["output"]).parent.parent.name == watch.PROCESSING_DIR


def test_busy_service_is_asked_again_not_failed(tmp_path):
    home = tmp_path / "home"
    write_tone(home / "inbox" / "warmer" / "a.wav")
    service = FakeService(busy_first=5)
    results = watch.process_pending(service, home, FAST, log=lambda line: None)
    assert [r.status for r in results] == ["done"]
    assert service.busy_left == 0


def test_stopping_while_the_service_is_busy_keeps_the_file_for_the_next_start(tmp_path):
    home = tmp_path / "home"
    write_tone(home / "inbox" / "warmer" / "a.wav")
    busy = FakeService(busy_first=10**9)
    handle = watch.start_watcher(busy, home, FAST, log=lambda line: None)
    deadline = time.monotonic() + 10
    while not busy.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    handle.stop()
    jobs = list((home / "inbox" / watch.PROCESSING_DIR).iterdir())
    assert len(jobs) == 1 and json.loads((jobs[0] / watch.JOB_FILE).read_text())["attempts"] == 0
    assert files_under(home / "failed") == []
    results = watch.process_pending(FakeService(), home, FAST, log=lambda line: None)
    assert [(r.source, r.status) for r in results] == [("warmer/a.wav", "done")]


def test_a_file_still_being_written_is_not_taken(tmp_path):
    """A WAV written slowly in pieces (longer than the settle time) is processed whole, once."""
    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    source = tmp_path / "whole.wav"
    x = write_tone(source, seconds=2.0)
    data = source.read_bytes()
    handle = watch.start_watcher(FakeService(), home, watch.WatchConfig(settle_s=0.4, poll_s=0.05), log=lambda line: None)
    try:
        target = home / "inbox" / "warmer"
        target.mkdir()
        with open(target / "slow.wav", "wb") as fh:
            for i in range(0, len(data), len(data) // 8):
                fh.write(data[i : i + len(data) // 8])
                fh.flush()
                time.sleep(0.25)
        deadline = time.monotonic() + 30
        while not (home / "done" / "warmer" / "slow.wav").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        handle.stop()
    assert (home / "done" / "warmer" / "slow.wav").read_bytes() == data
    assert sf.info(str(home / "outbox" / "slow.warmer.wav")).frames == x.shape[0]
    assert files_under(home / "failed") == []


def test_only_one_watcher_per_home(tmp_path):
    home = tmp_path / "home"
    handle = watch.start_watcher(FakeService(), home, FAST, log=lambda line: None)
    try:
        with pytest.raises(SemeqError, match="already using"):
            watch.process_pending(FakeService(), home, FAST, log=lambda line: None)
    finally:
        handle.stop()
    assert watch.process_pending(FakeService(), home, FAST, log=lambda line: None) == []


def test_the_service_status_reports_the_watch_folder_while_it_runs(tmp_path):
    from daw_bridge.service import Service

    home = tmp_path / "home"
    service = Service(home)
    handle = watch.start_watcher(service, home, FAST, log=lambda line: None)
    try:
        status = service.handle({"op": "status", "id": "s"})
    finally:
        handle.stop()
    assert status["watch"] == {"inbox": str((home / "inbox").resolve()), "workers": 2, "in_flight": 0, "done": 0, "failed": 0}
    assert "watch" not in service.status()


def test_files_dropped_while_watching_are_processed(tmp_path):
    home = tmp_path / "home"
    write_tone(home / "inbox" / "before.wav")  # dropped while the watcher was down
    lines: list[str] = []
    early: list[str] = []  # answers that appeared before their input was in done/ (a poller would see them)

    def poll_outbox() -> None:
        while not stopped.is_set():
            for js in (home / "outbox").glob("*.json"):
                name = json.loads(js.read_text())["input"]
                if not (home / "done" / name).exists():
                    early.append(name)
            time.sleep(0.005)

    stopped = threading.Event()
    (home / "outbox").mkdir(parents=True, exist_ok=True)
    poller = threading.Thread(target=poll_outbox)
    poller.start()
    handle = watch.start_watcher(FakeService(), home, FAST, log=lines.append)
    try:
        for i in range(5):
            write_tone(home / "inbox" / "brighter" / f"new{i}.wav", seed=i)
        deadline = time.monotonic() + 30
        while len(output_sets(home / "outbox")) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        handle.stop()
        stopped.set()
        poller.join()
    assert early == []
    assert files_under(home / "done") == ["before.wav"] + [f"brighter/new{i}.wav" for i in range(5)]
    assert sorted(output_sets(home / "outbox")) == ["before.wav"] + [f"brighter/new{i}.wav" for i in range(5)]
    assert sum(line.startswith("watch: done") for line in lines) == 6


def test_long_files_show_a_progress_bar(tmp_path):
    home = tmp_path / "home"
    write_tone(home / "inbox" / "warmer" / "long.wav", seconds=watch.LONG_FILE_S + 1, sr=8000, channels=1)
    lines: list[str] = []
    watch.process_pending(FakeService(), home, FAST, log=lines.append)
    bars = [line for line in lines if "[" in line and "/5" in line]
    assert [b.split("] ")[1].split(" ")[0] for b in bars] == ["1/5", "2/5", "3/5", "4/5", "5/5"]
    assert "(0:31)" in bars[0]


# --- the journal: kill the process, restart, nothing lost, nothing twice ---------------------------

RUNNER = """
import os, signal, sys, time
sys.path.insert(0, {tests!r})
from test_watch import FakeService
from daw_bridge import watch

home, delay, crash = sys.argv[1], float(sys.argv[2]), sys.argv[3]
on_step = None
if crash != "none":
    # die by SIGKILL right after the N-th time one named step of the journal is complete
    target, n = watch.Step(crash.split(":")[0]), int(crash.split(":")[1])
    seen = [0]
    def on_step(step, job):
        if step is target:
            seen[0] += 1
            if seen[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
config = watch.WatchConfig(settle_s=0.2, corrupt_after_s=0.6, poll_s=0.05, on_step=on_step)
handle = watch.start_watcher(FakeService(delay_s=delay), home, config)
while True:
    time.sleep(1)
"""

N_KILL_FILES = 8


def _drop_batch(home: Path) -> dict[str, bytes]:
    """Eight inputs: words folders, sidecars, a corrupt file; returns their bytes by inbox path."""
    inbox = home / "inbox"
    for i in range(N_KILL_FILES - 1):
        folder = ("warmer", "brighter", "")[i % 3]
        write_tone(inbox / folder / f"t{i}.wav", seconds=0.4, seed=i)
        if not folder:
            (inbox / f"t{i}.json").write_text('{"text": "warmer", "intensity": 0.5}')
    (inbox / "broken.wav").write_bytes(b"not audio at all")
    return {str(p.relative_to(inbox)): p.read_bytes() for p in inbox.rglob("*") if p.is_file()}


def _start(home: Path, script: Path, crash: str = "none", delay_s: float = 0.05) -> subprocess.Popen:
    """The watcher in its own process; its console goes to ``home/../watcher.log`` (kept on failure)."""
    with open(home.parent / "watcher.log", "a") as log:
        return subprocess.Popen([sys.executable, str(script), str(home), str(delay_s), crash], stdout=log, stderr=log)


def _settled(home: Path) -> int:
    return sum(1 for p in (home / "done").rglob("*.wav")) + sum(1 for p in (home / "failed").rglob("*.wav"))


def _all_settled(home: Path) -> bool:
    jobs = home / "inbox" / watch.PROCESSING_DIR
    return _settled(home) >= N_KILL_FILES and jobs.is_dir() and not any(jobs.iterdir())


def _wait(proc: subprocess.Popen, home: Path, until, timeout_s: float = 45.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not until() and proc.poll() is None:
        assert time.monotonic() < deadline, "the watcher did not get there in time"
        time.sleep(0.02)


def _check_exactly_once(home: Path, inputs: dict[str, bytes]) -> None:
    """Every input is in done/ or failed/ exactly once, byte-identical; one output set per success."""
    inbox = home / "inbox"
    assert [p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(".")] == []
    assert list((inbox / watch.PROCESSING_DIR).iterdir()) == []
    wavs = [p for p in inputs if p.endswith(".wav")]
    placed = {}
    for folder in ("done", "failed"):
        for p in (home / folder).rglob("*"):
            if p.is_file() and not p.name.endswith(".error.txt"):
                rel = str(p.relative_to(home / folder))
                assert rel not in placed, f"{rel} is in done/ and failed/"
                placed[rel] = (folder, p.read_bytes())
    assert sorted(placed) == sorted(inputs), "an input was lost or duplicated"
    for rel, data in inputs.items():
        assert placed[rel][1] == data
    assert placed["broken.wav"][0] == "failed" and (home / "failed" / "broken.error.txt").exists()
    succeeded = sorted(w for w in wavs if placed[w][0] == "done")
    assert len(succeeded) == N_KILL_FILES - 1
    assert sorted(output_sets(home / "outbox")) == succeeded
    outbox_files = files_under(home / "outbox")
    assert len(outbox_files) == 4 * len(succeeded), f"stray files in outbox: {outbox_files}"
    assert not any("-2." in name for name in outbox_files)


@pytest.fixture()
def runner_script(tmp_path) -> Path:
    path = tmp_path / "run_watcher.py"
    path.write_text(RUNNER.format(tests=str(TESTS_DIR)))
    return path


def test_sigkill_mid_batch_and_restart_loses_nothing(tmp_path, runner_script):
    """SIGKILL the watcher process twice while it works through a batch; the third run finishes it."""
    home = tmp_path / "home"
    inputs = _drop_batch(home)
    for kill_after in (2, 5):
        proc = _start(home, runner_script, delay_s=0.15)
        _wait(proc, home, lambda: _settled(home) >= kill_after)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _settled(home) < N_KILL_FILES, "the batch finished before the kill; nothing was tested"
    proc = _start(home, runner_script)
    try:
        _wait(proc, home, lambda: _all_settled(home))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _check_exactly_once(home, inputs)


@pytest.mark.parametrize(
    "crash",
    [
        "claim_journaled:3",  # the third claim journaled, its input not yet moved in
        "attempt_journaled:2",  # an attempt counted, nothing made yet
        "rendered:2",  # the render staged in the job folder, nothing in outbox yet
        "outputs_moved:3",  # render, plot and ReaScript in outbox, the end not yet journaled
        "end_journaled:4",  # the end journaled (done or failed), the input not yet moved out
        "input_moved:5",  # the input in done/ or failed/, the answer not yet in outbox
        "answer_moved:2",  # everything in place, the job folder not yet removed
    ],
)
def test_killed_at_each_journal_step_restart_finishes_exactly_once(tmp_path, runner_script, crash):
    home = tmp_path / "home"
    inputs = _drop_batch(home)
    proc = _start(home, runner_script, crash=crash)
    _wait(proc, home, lambda: _settled(home) >= N_KILL_FILES)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        pytest.fail(f"the crash point {crash} was never reached")
    assert proc.returncode == -signal.SIGKILL
    assert _settled(home) < N_KILL_FILES
    proc = _start(home, runner_script)
    try:
        _wait(proc, home, lambda: _all_settled(home))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _check_exactly_once(home, inputs)


# --- end to end with the real service, on real music --------------------------------------------


def test_real_service_on_real_music_end_to_end(tmp_path, real_music_excerpt):
    """The real Service (trained model, analysis, adaptive decisions) behind the watcher, on real music:
    the render is the EQ the answer describes (measured band change = the EQ's response), keeps the
    format, loudness and true-peak limits, and the ReaScript carries the answer's bands."""
    from daw_bridge.eq import EQParams, apply_eq, response_db
    from daw_bridge.service import Service

    samples, sr = real_music_excerpt
    home = tmp_path / "home"
    clip = samples[: 6 * sr]
    (home / "inbox" / "warmer").mkdir(parents=True)
    sf.write(str(home / "inbox" / "warmer" / "song.wav"), clip, sr, subtype="PCM_24")
    # the mix with a +10 dB bell at 300 Hz, so auto-suggest has something to fix (it leaves typical music nearly alone)
    muddy = apply_eq(clip[::-1].copy(), sr, EQParams(0.0, 100.0, 10.0, 300.0, 1.4, 0.0, 1000.0, 0.71, 0.0, 4000.0, 0.71, 0.0, 8000.0))
    sf.write(str(home / "inbox" / "mix.flac"), np.clip(muddy / max(1.0, np.max(np.abs(muddy)) / 0.95), -1, 1), sr,
             subtype="PCM_16")
    (home / "inbox" / "mix.json").write_text('{"suggest": true, "strength": 0.8}')
    service = Service(home)
    try:
        results = watch.process_pending(service, home, FAST, log=lambda line: None)
    finally:
        service.close()
    assert sorted((r.source, r.status, r.message) for r in results) == [
        ("mix.flac", "done", ""), ("warmer/song.wav", "done", "")]
    sets = output_sets(home / "outbox")
    assert sorted(sets) == ["mix.flac", "warmer/song.wav"]
    for name, record in sets.items():
        assert record["ok"] is True and record["op"] == ("adapt" if name.startswith("warmer") else "suggest")
        out = home / "outbox" / record["outputs"][0]
        src = home / "done" / name
        assert (sf.info(str(out)).subtype, sf.info(str(out)).samplerate, sf.info(str(out)).frames) == (
            sf.info(str(src)).subtype, sr, sf.info(str(src)).frames)
        render = record["render"]
        assert abs(render["loudness_out_lufs"] - render["loudness_in_lufs"]) <= 0.5
        assert render["true_peak_out_dbtp"] <= max(-1.0, render["true_peak_in_dbtp"]) + 0.01
        # the measured change of the band levels is the answer's EQ (up to the level alignment)
        before = {b["centre_hz"]: b["level_db"] for b in record["analysis_before"]["bands"] if b["level_db"] is not None}
        after = {b["centre_hz"]: b["level_db"] for b in record["analysis_after"]["bands"] if b["level_db"] is not None}
        centres = np.array([f for f in before if f in after and 60 <= f <= 12000])
        measured = np.array([after[f] - before[f] for f in centres])
        expected = response_db(EQParams.from_dict(record["params"]), centres, sr)
        residual = (measured - measured.mean()) - (expected - expected.mean())
        assert np.sqrt(np.mean(residual**2)) < 1.0, residual
        assert np.ptp(expected) > 0.5, "the EQ did nothing: the check above would be empty"
        script = (home / "outbox" / record["outputs"][2]).read_text()
        for band in record["reaeq"]["bands"]:
            assert f"freq_hz = {float(band['freq_hz'])!r}" in script
