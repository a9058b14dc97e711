"""Every scenario of every ``features/*.feature`` file, as pytest tests (steps: ``features/steps``)."""

from __future__ import annotations

from pytest_bdd import scenarios

scenarios(
    "packaged_servers.feature",
    "verify_raid_configuration.feature",
    "delete_and_redefine_array.feature",
    "restore_factory_defaults.feature",
    "capture_system_state.feature",
    "restore_captured_state.feature",
    "recovery_messages.feature",
)
