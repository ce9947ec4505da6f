"""Path policy: requests read only inside the configured folders."""

from __future__ import annotations

import os

import pytest

from daw_bridge.paths import UNRESTRICTED, ForbiddenPathError, PathPolicy, ensure_home


@pytest.fixture()
def home(tmp_path):
    return ensure_home(tmp_path / "home")


def test_ensure_home_creates_the_five_folders(tmp_path):
    home = ensure_home(tmp_path / "h")
    assert sorted(p.name for p in home.iterdir()) == ["done", "failed", "inbox", "outbox", "renders"]


def test_file_inside_renders_and_inbox_is_allowed(home):
    policy = PathPolicy.for_home(home)
    assert policy.check(str(home / "renders" / "a.wav")) == home / "renders" / "a.wav"
    assert policy.check(str(home / "inbox" / "sub" / "b.flac")) == home / "inbox" / "sub" / "b.flac"


@pytest.mark.parametrize("sub", ["outbox", "done", "failed"])
def test_other_home_folders_are_refused(home, sub):
    with pytest.raises(ForbiddenPathError):
        PathPolicy.for_home(home).check(str(home / sub / "a.wav"))


def test_outside_path_is_refused_with_code(home):
    with pytest.raises(ForbiddenPathError) as info:
        PathPolicy.for_home(home).check("/etc/passwd")
    assert info.value.code == "forbidden_path"
    assert "outside the folders" in str(info.value)


def test_dotdot_is_refused_even_when_it_stays_inside(home):
    policy = PathPolicy.for_home(home)
    with pytest.raises(ForbiddenPathError, match=r"'\.\.'"):
        policy.check(str(home / "renders" / ".." / "renders" / "a.wav"))
    with pytest.raises(ForbiddenPathError):
        policy.check(str(home / "renders" / ".." / ".." / "etc" / "passwd"))


def test_relative_path_is_refused(home):
    with pytest.raises(ForbiddenPathError, match="absolute"):
        PathPolicy.for_home(home).check("renders/a.wav")


def test_symlink_out_is_refused(home, tmp_path):
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF")
    (home / "renders" / "link.wav").symlink_to(secret)
    (home / "renders" / "dirlink").symlink_to(tmp_path)
    policy = PathPolicy.for_home(home)
    with pytest.raises(ForbiddenPathError):
        policy.check(str(home / "renders" / "link.wav"))
    with pytest.raises(ForbiddenPathError):
        policy.check(str(home / "renders" / "dirlink" / "secret.wav"))


def test_symlink_within_the_roots_is_allowed(home):
    target = home / "inbox" / "song.wav"
    target.write_bytes(b"RIFF")
    (home / "renders" / "alias.wav").symlink_to(target)
    assert PathPolicy.for_home(home).check(str(home / "renders" / "alias.wav")) == target


def test_allow_adds_a_folder_and_a_symlinked_root_works(home, tmp_path):
    extra = tmp_path / "projects"
    extra.mkdir()
    link = tmp_path / "projects-link"
    link.symlink_to(extra)
    policy = PathPolicy.for_home(home, allow=[link])
    assert policy.check(str(extra / "mix.wav")) == extra / "mix.wav"
    assert policy.check(str(link / "mix.wav")) == extra / "mix.wav"
    with pytest.raises(ForbiddenPathError):
        policy.check(str(tmp_path / "projectsX" / "mix.wav"))  # a prefix, not a parent


@pytest.mark.parametrize("bad", ["", "a\x00b", "/" + "x" * 5000, 42, None])
def test_garbage_is_refused(home, bad):
    with pytest.raises(ForbiddenPathError):
        PathPolicy.for_home(home).check(bad)


def test_unrestricted_resolves_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert UNRESTRICTED.check("x.wav") == tmp_path.resolve() / "x.wav"
    assert UNRESTRICTED.check(os.fspath(tmp_path / ".." / "y.wav")) == tmp_path.resolve().parent / "y.wav"
