"""One table says which Appendix B error each low-level problem is, per image kind (issue #16)."""

from __future__ import annotations

import pytest

from recovery.layout import LayoutMismatch
from recovery.problems import APPENDIX_B, Problem, error_for, layout_problem

CODES = {  # the seed's Appendix B: factory image, user image
    Problem.MAX_BOOT_DIFFERS: (210, 215),
    Problem.IMAGE_UNUSABLE: (211, 214),
    Problem.IMAGE_FOR_ANOTHER: (212, 214),
    Problem.DISK_COUNT_DIFFERS: (212, 215),
    Problem.DISKS_DO_NOT_FIT: (210, 215),
}


@pytest.mark.parametrize("problem", list(Problem))
def test_every_problem_has_its_code_for_each_image_kind(problem: Problem) -> None:
    assert set(APPENDIX_B[problem]) == {"factory", "user"}
    factory, user = error_for(problem, "factory", "why"), error_for(problem, "user", "why")
    assert (factory.code, user.code) == CODES[problem]
    assert factory.detail == user.detail == "why"


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("disk_count", Problem.DISK_COUNT_DIFFERS),
        ("appliance", Problem.DISK_COUNT_DIFFERS),
        ("capacity", Problem.DISKS_DO_NOT_FIT),
        ("boot_limit", Problem.DISKS_DO_NOT_FIT),
    ],
)
def test_a_layout_that_does_not_suit_the_disks(kind: str, problem: Problem) -> None:
    assert layout_problem(LayoutMismatch(kind, "text")) is problem
