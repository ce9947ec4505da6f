"""Atomic output: a file appears whole or not at all, and an existing one survives a failed write."""

from __future__ import annotations

import pytest

from daw_bridge.files import atomic_path, write_text_atomic


def test_a_successful_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "curve.png"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".") and tmp.suffix == ".png"
        tmp.write_text("new")
        assert target.read_text() == "old"  # nothing visible until the block ends
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "answer.json"
    write_text_atomic(target, '{"ok": true}')
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk went away")
    assert target.read_text() == '{"ok": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["answer.json"]


def test_os_errors_read_as_sentences():
    import errno

    from daw_bridge.files import os_error_sentence

    assert os_error_sentence(OSError(errno.ENOSPC, "No space left on device"), "write song.wav") == (
        "Could not write song.wav: the disk is full."
    )
    assert "not writable" in os_error_sentence(PermissionError(errno.EACCES, "Permission denied"), "move it")
    assert "immutable" in os_error_sentence(PermissionError(errno.EPERM, "Operation not permitted"), "move it")
    assert os_error_sentence(OSError(errno.ECONNRESET, "Connection reset by peer"), "x") == "Could not x: Connection reset by peer."
