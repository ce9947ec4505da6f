"""A real, headless Ardour session with ACE EQ on a track: built, run with its OSC surface, exported.

Drives Ardour 7's ``ardour7-lua`` (Debian package ``ardour``) with generated Lua scripts on the
dummy audio backend. Used by the end-to-end test that proves an answer pushed over OSC sounds, in
Ardour, like the product's own ``response_db``; also usable by hand to check an Ardour setup.

Ardour 7.3 has no headless audio import, so audio goes onto the track the way Ardour itself stores
a recording: one mono float WAV per channel in ``interchange/<session>/audiofiles/`` plus
``<Source>``, a whole-file ``<Region>``, a playlist ``<Region>`` and the session-range
``<Location>`` in the ``.ardour`` XML (times in Ardour's ticks, :data:`TICKS_PER_SECOND`). The OSC
surface is switched on, and the track's outputs are connected to the master bus, in the same XML
(Ardour auto-connects a new track in the background and may save before it did). Ardour's
configuration and cache are isolated under the working folder (``XDG_CONFIG_HOME``,
``XDG_CACHE_HOME``), where a float32 WAV export preset is written.

Measured pitfalls of Ardour 7.3 handled here: a second ``simple_export`` in one ``ardour7-lua``
process corrupts its heap now and then, so :class:`LiveArdour` exports once per run (and about one
run in 40 still crashes around its export: after a finished export the render is kept, before it
:class:`ArdourError` says so); the OSC
surface takes 3819 or the next free port and writes its URL to ``$XDG_CONFIG_HOME/ardour7/osc_url``
when that file exists, which is how :attr:`LiveArdour.osc_port` is found.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from daw_bridge.errors import SemeqError
from daw_bridge.files import write_bytes_atomic
from daw_bridge.hosts.ardour import ACE_PARAMETERS, ACE_URI

#: The headless Ardour with a Lua interpreter (Debian package ``ardour``).
ARDOUR_LUA = "ardour7-lua"
#: Ardour 7's time unit: superclock ticks per second (``a<ticks>`` in the session XML).
TICKS_PER_SECOND = 282_240_000
#: Name of the track the session gets.
TRACK_NAME = "Input"
#: The float32 WAV export preset written into the isolated configuration.
EXPORT_PRESET_ID = "5e3e0c3a-7a1f-4c55-9d2b-5e9e0f1d2a01"
EXPORT_FORMAT_ID = "5e3e0c3a-7a1f-4c55-9d2b-5e9e0f1d2a02"
OSC_PROTOCOL = "Open Sound Control (OSC)"

_EXPORT_FORMAT = f"""<?xml version="1.0" encoding="UTF-8"?>
<ExportFormatSpecification name="semeq float32 WAV" id="{EXPORT_FORMAT_ID}" with-cue="false" with-toc="false" with-mp4chaps="false" command="" analyse="false" soundcloud-upload="false">
  <Encoding id="F_WAV" type="T_Sndfile" extension="wav" name="WAV" has-sample-format="true" channel-limit="256"/>
  <SampleRate rate="1"/>
  <SRCQuality quality="SRC_SincBest"/>
  <EncodingOptions>
    <Option name="sample-format" value="SF_Float"/>
    <Option name="dithering" value="D_None"/>
    <Option name="tag-metadata" value="false"/>
    <Option name="tag-support" value="false"/>
    <Option name="broadcast-info" value="false"/>
  </EncodingOptions>
  <Processing>
    <Normalize enabled="false" loudness="no" dbfs="0" lufs="-23" dbtp="-1"/>
    <Silence>
      <Start><Trim enabled="false"/><Add enabled="false"><Duration format="Timecode" hours="0" minutes="0" seconds="0" frames="0"/></Add></Start>
      <End><Trim enabled="false"/><Add enabled="false"><Duration format="Timecode" hours="0" minutes="0" seconds="0" frames="0"/></Add></End>
    </Silence>
  </Processing>
</ExportFormatSpecification>
"""

_EXPORT_PRESET = f"""<?xml version="1.0" encoding="UTF-8"?>
<ExportPreset id="{EXPORT_PRESET_ID}" name="semeq float32 WAV">
  <ExportFormat id="{EXPORT_FORMAT_ID}"/>
  <ExportFilename>
    <Folder relative="1" path="export"/>
    <Field name="label" enabled="1"/>
    <Field name="session" enabled="0"/>
    <Field name="snapshot" enabled="0"/>
    <Field name="timespan" enabled="0"/>
    <Field name="revision" enabled="0"/>
    <Field name="time" enabled="0" value="T_None"/>
    <Field name="date" enabled="0" value="D_None"/>
  </ExportFilename>
</ExportPreset>
"""

_SETUP_LUA = """
AudioEngine:set_backend("None (Dummy)", "", "")
AudioEngine:set_device_name("Silence")
"""


class ArdourError(SemeqError):
    """Ardour is missing or did not do what a generated script asked."""

    code = "ardour"


@dataclass(frozen=True)
class ArdourSession:
    """A saved session: ``directory``/``name``.ardour, its rate (Hz) and length (frames)."""

    directory: Path
    name: str
    sample_rate_hz: int
    frames: int
    channels: int
    env: dict

    @property
    def snapshot_path(self) -> Path:
        return self.directory / f"{self.name}.ardour"


def ardour_lua_path() -> str:
    """Path of ``ardour7-lua``; :class:`ArdourError` with the install command when it is missing."""
    path = shutil.which(ARDOUR_LUA)
    if path is None:
        raise ArdourError(
            f"{ARDOUR_LUA} was not found on PATH; install Ardour "
            "(Debian/Ubuntu: apt-get install --no-install-recommends ardour)"
        )
    return path


def isolated_env(root: Path) -> dict:
    """Environment for Ardour with its config and cache under ``root`` (export preset, OSC url file)."""
    config = root / "config"
    cache = root / "cache"
    export_dir = config / "ardour7" / "export"
    export_dir.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    (export_dir / "semeq-float32.format").write_text(_EXPORT_FORMAT)
    (export_dir / "semeq-float32.preset").write_text(_EXPORT_PRESET)
    # Ardour's OSC surface writes its URL (with the port it got) into this file when it exists.
    (config / "ardour7" / "osc_url").write_text("")
    env = dict(os.environ)
    env.update(XDG_CONFIG_HOME=str(config), XDG_CACHE_HOME=str(cache))
    return env


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal."""
    if any(ch in text for ch in "\n\r\0"):
        raise ArdourError(f"cannot pass {text!r} to Ardour: it contains a line break or NUL")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_lua(script: str, env: dict, workdir: Path, timeout_s: float = 60.0) -> str:
    """Run a Lua script in ``ardour7-lua``; returns its output, which must contain ``SEMEQ-OK``."""
    script_path = workdir / f"semeq-{time.monotonic_ns()}.lua"
    script_path.write_text(script)
    try:
        done = subprocess.run(
            [ardour_lua_path(), str(script_path)], env=env, cwd=workdir, capture_output=True,
            text=True, timeout=timeout_s, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise ArdourError(f"{ARDOUR_LUA} did not finish within {timeout_s:g} s") from None
    finally:
        script_path.unlink(missing_ok=True)
    output = done.stdout + done.stderr
    if "SEMEQ-OK" not in done.stdout:
        raise ArdourError(f"{ARDOUR_LUA} failed (exit {done.returncode}):\n{output[-3000:]}")
    return output


def _ticks(frames: int, sample_rate_hz: int) -> str:
    ticks, rest = divmod(frames * TICKS_PER_SECOND, sample_rate_hz)
    if rest:
        raise ArdourError(f"{frames} frames at {sample_rate_hz} Hz is not a whole number of Ardour ticks")
    return f"a{ticks}"


def _region_attributes(name: str, length: str, region_id: int, sources: list[int], whole_file: bool) -> dict:
    attributes = {
        "name": name, "muted": "0", "opaque": "1", "locked": "0", "video-locked": "0",
        "automatic": "1" if whole_file else "0", "whole-file": "1" if whole_file else "0",
        "import": "0", "external": "0", "sync-marked": "0", "left-of-split": "0",
        "right-of-split": "0", "hidden": "0", "position-locked": "0", "valid-transients": "0",
        "start": "a0", "length": f"{length}@a0", "sync-position": "a0", "ancestral-start": "a0",
        "ancestral-length": "a0@a0", "stretch": "1", "shift": "1", "layering-index": "0",
        "tags": "", "contents": "0", "envelope-active": "0", "default-fade-in": "0",
        "default-fade-out": "0", "fade-in-active": "0", "fade-out-active": "0",
        "scale-amplitude": "1", "id": str(region_id), "type": "audio", "first-edit": "nothing",
    }
    for i, source_id in enumerate(sources):
        attributes[f"source-{i}"] = str(source_id)
    for i, source_id in enumerate(sources):
        attributes[f"master-source-{i}"] = str(source_id)
    attributes["channels"] = str(len(sources))
    return attributes


def _connect_to_master(root: ET.Element, track: str) -> None:
    """Connect the track's outputs to the master bus's inputs in the XML (1 to 1, both sides).

    Ardour auto-connects a new track in a background thread; a session saved right after
    ``new_audio_track`` may miss those connections, and the track then exports as silence.
    """
    routes = {r.get("name"): r for r in root.iter("Route")}
    outputs = next(io for io in routes[track].findall("IO") if io.get("direction") == "Output")
    master_name = next(r.get("name") for r in routes.values()
                       if "MasterOut" in (r.find("PresentationInfo").get("flags", "")))
    inputs = next(io for io in routes[master_name].findall("IO") if io.get("direction") == "Input")
    for out_port, in_port in zip(outputs.findall("Port"), inputs.findall("Port")):
        for port, other in ((out_port, in_port), (in_port, out_port)):
            if not any(c.get("other") == other.get("name") for c in port.findall("Connection")):
                ET.SubElement(port, "Connection", {"other": other.get("name")})


def put_audio_on_track(session: ArdourSession, audio: np.ndarray, track: str = TRACK_NAME) -> None:
    """Write ``audio`` ``(frames, channels)`` as the only region of ``track`` and enable OSC.

    One mono float WAV per channel goes into ``interchange/<name>/audiofiles/``; the snapshot XML
    gains the sources, the regions and the session range, its OSC surface is switched on and the
    track's outputs are connected to the master bus.
    """
    tree = ET.parse(session.snapshot_path)
    root = tree.getroot()
    next_id = int(root.get("id-counter", "1000")) + 1
    audiofiles = session.directory / "interchange" / session.name / "audiofiles"
    audiofiles.mkdir(parents=True, exist_ok=True)
    length = _ticks(audio.shape[0], session.sample_rate_hz)

    sources_el = root.find("Sources")
    source_ids = []
    for channel in range(audio.shape[1]):
        filename = f"semeq-{track}-{channel + 1}.wav"
        sf.write(audiofiles / filename, audio[:, channel].astype(np.float32), session.sample_rate_hz,
                 subtype="FLOAT", format="WAV")
        ET.SubElement(sources_el, "Source", {
            "name": filename, "type": "audio", "flags": "", "id": str(next_id),
            "natural-position": "a0", "channel": "0", "origin": "", "gain": "1",
        })
        source_ids.append(next_id)
        next_id += 1

    ET.SubElement(root.find("Regions"), "Region",
                  _region_attributes(f"semeq-{track}", length, next_id, source_ids, True))
    playlist_id = next(r for r in root.iter("Route") if r.get("name") == track).get("audio-playlist")
    playlist = next(p for p in root.find("Playlists") if p.get("id") == playlist_id)
    ET.SubElement(playlist, "Region",
                  _region_attributes(f"semeq-{track}.1", length, next_id + 1, source_ids, False))
    ET.SubElement(root.find("Locations"), "Location", {
        "id": str(next_id + 2), "name": "session", "start": "a0", "end": length,
        "flags": "IsSessionRange", "locked": "0", "cue": "0",
    })
    root.set("id-counter", str(next_id + 3))
    _connect_to_master(root, track)
    for protocol in root.find("ControlProtocols"):
        if protocol.get("name") == OSC_PROTOCOL:
            protocol.set("active", "1")
            protocol.set("session-state", "1")
    write_bytes_atomic(session.snapshot_path, ET.tostring(root, encoding="UTF-8", xml_declaration=True))


def create_session(workdir: Path, audio: np.ndarray, sample_rate_hz: int = 48000,
                   name: str = "semeq", env: dict | None = None) -> ArdourSession:
    """A new saved session in ``workdir/name``: one track with ACE EQ, ``audio`` on it, OSC on.

    ``audio`` is ``(frames, channels)`` float (1 or 2 channels). ``env`` defaults to an isolated
    configuration under ``workdir`` (:func:`isolated_env`).
    """
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim == 1:
        audio = audio[:, None]
    if audio.ndim != 2 or audio.shape[1] not in (1, 2) or audio.shape[0] == 0:
        raise ArdourError(f"audio for an Ardour track must be (frames, 1 or 2 channels), got {audio.shape}")
    workdir = Path(workdir).resolve()
    env = env if env is not None else isolated_env(workdir / "ardour-home")
    directory = workdir / name
    if directory.exists():
        raise ArdourError(f"{directory} already exists; choose a new folder for the session")
    script = _SETUP_LUA + f"""
local s = create_session({lua_string(str(directory))}, {lua_string(name)}, {int(sample_rate_hz)})
if not s then print("SEMEQ-FAIL create_session") return end
local tr = Session:new_audio_track({audio.shape[1]}, 2, nil, 1, {lua_string(TRACK_NAME)},
  ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, false, false):front()
local eq = ARDOUR.LuaAPI.new_plugin(Session, {lua_string(ACE_URI)}, ARDOUR.PluginType.LV2, "")
if eq:isnil() then print("SEMEQ-FAIL ACE EQ plug-in not found") close_session() return end
tr:add_processor_by_index(eq, 0, nil, true)
Session:save_state("", false, false, false, false, false)
close_session()
print("SEMEQ-OK")
"""
    run_lua(script, env, workdir)
    session = ArdourSession(directory, name, int(sample_rate_hz), audio.shape[0], audio.shape[1], env)
    put_audio_on_track(session, audio)
    # Let Ardour load and re-save the edited snapshot once: later runs then load a file Ardour wrote
    # itself (a first load of the edited file followed at once by an export crashed now and then).
    run_lua(_SETUP_LUA + f"""
local s = load_session({lua_string(str(directory))}, {lua_string(name)})
if not s then print("SEMEQ-FAIL load_session") return end
local regions = Session:route_by_name({lua_string(TRACK_NAME)}):to_track():playlist():region_list():size()
Session:save_state("", false, false, false, false, false)
close_session()
if regions == 1 then print("SEMEQ-OK") else print("SEMEQ-FAIL the track has " .. regions .. " regions") end
""", env, workdir)
    return session


class LiveArdour:
    """``ardour7-lua`` running a saved session with its OSC surface listening, until one export.

    Use as a context manager. ``osc_port`` asks for an OSC port (Ardour's ``osc-port`` setting,
    default 3819); :attr:`osc_port` is the UDP port Ardour's OSC surface got (that one, or the next
    free one). ``prelude`` is Lua run once the session is loaded, before Ardour reports ready, with
    ``route`` (the track) and ``eq`` (its first plug-in) in scope. :meth:`export` renders the session range and returns the samples and the
    24 ACE values Ardour held at that moment; Ardour then closes the session. One export per run:
    a second export in the same ``ardour7-lua`` process corrupts Ardour 7.3's heap now and then
    (measured: 2 crashes in 5 runs of six exports, none in runs of one).
    """

    def __init__(self, session: ArdourSession, osc_port: int | None = None, timeout_s: float = 90.0,
                 prelude: str = "") -> None:
        self.session = session
        self.prelude = prelude
        self.requested_osc_port = osc_port
        self.timeout_s = timeout_s
        self.control = session.directory / "semeq-control"
        self.exports = session.directory / "semeq-exports"
        self.osc_port: int | None = None
        self.crashed_after_export = False
        self._process: subprocess.Popen | None = None
        self._log = session.directory / "semeq-ardour.log"

    def _script(self) -> str:
        s = self.session
        return _SETUP_LUA + f"""
local ctl = {lua_string(str(self.control))}
local s = load_session({lua_string(str(s.directory))}, {lua_string(s.name)})
if not s then print("SEMEQ-FAIL load_session") return end
local route = Session:route_by_name({lua_string(TRACK_NAME)})
local eq = route:nth_plugin(0)
if eq:isnil() then print("SEMEQ-FAIL no plug-in on the track") close_session() return end
local function exists(path) local f = io.open(path, "r") if f then f:close() return true end return false end
local function put(path, text) local f = io.open(path .. ".tmp", "w") f:write(text) f:close() os.rename(path .. ".tmp", path) end
local function stage(text) io.stderr:write("SEMEQ stage: " .. text .. "\\n") io.stderr:flush() end
stage("loaded")
{self.prelude}
put(ctl .. "/ready", "ready")
local deadline = os.time() + {int(self.timeout_s)}
while os.time() < deadline and not exists(ctl .. "/quit") do
  if exists(ctl .. "/export.request") then
    stage("reading ACE values")
    local values = {{}}
    for i = 0, {len(ACE_PARAMETERS) - 1} do
      values[#values + 1] = string.format("%.9g", ARDOUR.LuaAPI.get_processor_param(eq, i, true))
    end
    put(ctl .. "/values", table.concat(values, " ") .. "\\n")
    local e = Session:simple_export()
    e:set_preset({lua_string(EXPORT_PRESET_ID)})
    e:set_folder({lua_string(str(self.exports))})
    e:set_name("export")
    e:set_range(0, {s.frames})
    stage("exporting")
    local ok = e:run_export()
    stage("exported " .. tostring(ok))
    put(ctl .. "/export.done", tostring(ok) .. "\\n")
    break
  end
  sleep(0.05)
end
stage("closing")
close_session()
stage("closed")
print("SEMEQ-OK")
"""

    def _wait_for(self, path: Path, what: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not path.exists():
            if self._process is not None and self._process.poll() is not None:
                raise ArdourError(f"{ARDOUR_LUA} ended before {what}:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise ArdourError(f"{ARDOUR_LUA}: no {what} within {timeout_s:g} s:\n{self.log()[-3000:]}")
            time.sleep(0.02)

    def log(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def __enter__(self) -> "LiveArdour":
        for folder in (self.control, self.exports):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
        script = self.session.directory / "semeq-live.lua"
        script.write_text(self._script())
        config_dir = Path(self.session.env["XDG_CONFIG_HOME"]) / "ardour7"
        url_file = config_dir / "osc_url"
        url_file.write_text("")
        rc_file = config_dir / "config"
        if self.requested_osc_port is not None:
            rc_file.write_text(
                '<?xml version="1.0" encoding="UTF-8"?>\n<Ardour>\n  <Config>\n'
                f'    <Option name="osc-port" value="{int(self.requested_osc_port)}"/>\n'
                "  </Config>\n</Ardour>\n"
            )
        else:
            rc_file.unlink(missing_ok=True)
        with open(self._log, "wb") as log:
            self._process = subprocess.Popen(
                [ardour_lua_path(), str(script)], env=self.session.env, cwd=self.session.directory,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        try:
            self._wait_for(self.control / "ready", "loaded session", 60.0)
            deadline = time.monotonic() + 10.0
            while not url_file.read_text().strip():
                if time.monotonic() > deadline:
                    raise ArdourError("Ardour's OSC surface did not start (no URL in osc_url)")
                time.sleep(0.02)
            self.osc_port = int(url_file.read_text().strip().rstrip("/").rsplit(":", 1)[1])
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def export(self) -> tuple[np.ndarray, list[float]]:
        """Render the session range now: ``(samples (frames, channels) float32, 24 ACE values)``.

        Ardour 7.3 sometimes crashes (heap corruption) right after an export has finished. Such a
        render is still used when Ardour reported the export as done ("exported true" in its log)
        and the file holds every frame; :attr:`crashed_after_export` then says so.
        """
        if self._process is None:
            raise ArdourError("Ardour is not running (one export per LiveArdour run)")
        (self.control / "export.request").write_text("export")
        done = self.control / "export.done"
        try:
            self._wait_for(done, "the end of the export", 60.0)
            status = done.read_text().strip()
        except ArdourError:
            if "SEMEQ stage: exported true" not in self.log():
                raise
            status, self.crashed_after_export = "true", True
        files = sorted(self.exports.glob("*.wav"))
        values_file = self.control / "values"
        self.__exit__(None, None, None)
        if status != "true" or len(files) != 1 or not values_file.exists():
            raise ArdourError(f"Ardour's export failed ({status}, files {files}):\n{self.log()[-3000:]}")
        samples, rate = sf.read(files[0], dtype="float32", always_2d=True)
        if rate != self.session.sample_rate_hz or samples.shape != (self.session.frames, 2):
            raise ArdourError(
                f"Ardour exported {samples.shape} at {rate} Hz, expected ({self.session.frames}, 2) "
                f"at {self.session.sample_rate_hz} Hz"
            )
        return samples, [float(v) for v in values_file.read_text().split()]

    def __exit__(self, *exc) -> None:
        if self._process is None:
            return
        (self.control / "quit").write_text("quit")
        try:
            self._process.wait(timeout=20.0)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
