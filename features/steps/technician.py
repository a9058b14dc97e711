"""One scenario's technician: the server they work on, its lab bench, and their visits to its console.

Each power-on is a visit with its own transcript file in the scenario's folder; on failure the report
gets every transcript and the last screen (see ``features/conftest.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from simulator.book.record import Recording
from steps.console import Console
from steps.lab import NAME, Bench, CatalogEntry


@dataclass(frozen=True)
class Settings:
    backend: str  # "process" or "libvirt"
    prompt_seconds: float  # each POST prompt window
    timeout: float  # the longest any single screen may take to come
    screens: Path | None = None  # keep every distinct screen (text + PNG) of every visit under this folder
    fast_forward: bool = True  # end at once a POST prompt window the scenario is not going to answer


@dataclass
class Technician:
    bench: Bench
    workdir: Path
    settings: Settings
    server: CatalogEntry | None = None
    visits: list[Console] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)  # what a step remembers for a later one
    recording: Recording | None = None  # the procedure book's record of every visit (--book)

    @property
    def name(self) -> str:
        return NAME

    @property
    def console(self) -> Console:
        if not self.visits:
            raise AssertionError("the server was never powered on in this scenario (no console)")
        return self.visits[-1]

    @property
    def powered(self) -> bool:
        return bool(self.visits) and self.visits[-1].child.isalive()

    def power_on(self) -> Console:
        """Press the power button: a new console session from POST on (the previous one must be over)."""
        if self.server is None:
            raise AssertionError(
                "no packaged server in this scenario: start with 'Given a ... packaged server'"
            )
        if self.powered:
            self.power_off()
        visit = f"visit-{len(self.visits) + 1}"
        screens = self.settings.screens / visit if self.settings.screens else None
        console = Console(
            self.bench.lab,
            NAME,
            transcript=self.workdir / f"{visit}.txt",
            screens=screens,
            prompt_seconds=self.settings.prompt_seconds,
            timeout=self.settings.timeout,
            backend=self.settings.backend,
            fast_forward=self.settings.fast_forward,
            recording=self.recording,
            visit=len(self.visits) + 1,
        )
        self.visits.append(console)
        return console

    def power_off(self) -> None:
        """The power button (Ctrl-]): the session ends whatever the server was doing."""
        if self.visits:
            console = self.visits[-1]
            if console.child.isalive():
                console.power_button()
                console.expect(f"Server {NAME} powered off.", timeout=30)
                console.wait_power_off(timeout=30)

    def close(self) -> None:
        for console in self.visits:
            try:
                console.close()
            except Exception:  # noqa: BLE001 - teardown must reach every console
                console.child.terminate(force=True)

    def transcripts(self) -> str:
        parts = []
        for i, console in enumerate(self.visits, 1):
            parts.append(f"======== visit {i} (power-on {i} of {self.name}) ========\n{console.text()}")
        return "\n".join(parts)

    def last_screen(self) -> str:
        if not self.visits:
            return "(the server was never powered on)"
        console = self.visits[-1]
        try:
            return console.screen_text()
        except Exception:  # noqa: BLE001 - a dead console still has its transcript
            return console.last_screen()
