"""The user slot's capture as readers and the next capture find it, whatever a killed switch left.

A capture is switched into its slot in three renames (:mod:`recovery.capture`): ``SLOT`` -> ``SLOT.old``,
``SLOT.new`` -> ``SLOT``, remove ``SLOT.old``. :func:`recover_slot` (run by the next capture, which holds
the DriveKey exclusively) repairs a switch interrupted at any point, so exactly the previous or the new
capture is ``SLOT``; until then readers find it with :func:`resolve_slot`, writing nothing. Kept apart from
the capture itself: every Recovery start lists the slot, and only a capture needs the capture's modules.
"""

from __future__ import annotations

from recovery.blockimage import ImageProblem
from recovery.imagestore import ImageStore, check_path

__all__ = ["recover_slot", "resolve_slot"]


def _verifies(store: ImageStore, path: str) -> bool:
    from recovery.imageverify import verify_image  # start-up: needed only after a killed switch

    try:
        verify_image(store, path)
    except ImageProblem:
        return False
    return True


def resolve_slot(store: ImageStore, slot: str) -> str | None:
    """Where the capture of ``slot`` is, as :func:`recover_slot` would leave it, without changing anything.

    For readers: they hold the DriveKey shared, so no capture is running, and what a killed capture left
    (``SLOT.new``, ``SLOT.old``) is only repaired by the next capture, which holds it exclusively.
    """
    new, old = f"{check_path(slot)}.new", f"{slot}.old"
    if store.exists(slot):
        return slot
    if store.exists(old):
        return new if store.exists(new) and _verifies(store, new) else old
    return None


def recover_slot(store: ImageStore, slot: str) -> str:
    """Repair an interrupted capture or switch so ``slot`` is exactly the previous or the new capture.

    Returns what was done. Store failures raise ``StoreError``.
    """
    new, old = f"{check_path(slot)}.new", f"{slot}.old"
    has_slot, has_old, has_new = store.exists(slot), store.exists(old), store.exists(new)
    done = []
    if has_slot:
        if has_new:
            store.remove_tree(new)
            done.append(f"removed the unfinished capture {new}")
        if has_old:
            store.remove_tree(old)
            done.append(f"removed the replaced capture {old}")
    elif has_old and has_new:
        if _verifies(store, new):
            store.rename(new, slot)
            store.remove_tree(old)
            done.append(f"finished the interrupted switch to {new}")
        else:
            store.remove_tree(new)
            store.rename(old, slot)
            done.append(f"rolled back to {old}: {new} does not verify")
    elif has_old:
        store.rename(old, slot)
        done.append(f"restored the previous capture from {old}")
    elif has_new:
        store.remove_tree(new)
        done.append(f"removed the unfinished capture {new}")
    return "; ".join(done) or "clean"
