"""features/steps/trash.py: a passed scenario's lab leaves at once and is deleted in the background."""

from __future__ import annotations

from pathlib import Path

from steps.trash import Trash


def test_a_discarded_folder_is_gone_at_once_and_deleted_by_close(tmp_path: Path) -> None:
    lab = tmp_path / "scenario" / "lab"
    (lab / "srv").mkdir(parents=True)
    (lab / "srv" / "bay1.img").write_bytes(b"\0" * 4096)
    trash = Trash(tmp_path / "trash")
    trash.discard(lab)
    assert not lab.exists()  # renamed away before discard returns
    trash.close()
    assert not (tmp_path / "trash").exists()  # and nothing left once the session ends
    assert (tmp_path / "scenario").is_dir()  # the scenario's own folder stays for pytest


def test_a_folder_that_is_gone_is_nothing_to_discard(tmp_path: Path) -> None:
    trash = Trash(tmp_path / "trash")
    trash.discard(tmp_path / "never-made")
    trash.close()
