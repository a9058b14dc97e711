"""The exact lines the Interaction Recovery Environment shows (seed: the procedures and Appendix B)."""

from __future__ import annotations

WELCOME = "Welcome to the Interaction Recovery Environment"
INTRO = (
    "This utility allows you to revert your system to the original factory state. It also allows",
    "you to capture (and restore) the system state after you have configured it to your liking.",
    "Any information currently stored on the system will be completely erased",
    "during the restore process. Please be sure to back up any important data before",
    "proceeding.",
)
TAB = "Restore/Capture System State"
SELECT_IMAGE = "Select the image to restore:"
RESTORE_HINT = "Click the Restore button below to proceed."
CAPTURE_HINT = "Click the Capture button below to capture current system state."
RESTORE_BUTTON = "Restore Image"
CAPTURE_BUTTON = "Capture System Image"
SHUTDOWN_BUTTON = "Shutdown"
RESTART_BUTTON = "Restart"
FACTORY_IMAGE = "Standard Factory Image"
USER_IMAGE = "User Configured Image"

# Appendix B: white text on success.
FACTORY_DONE = "Factory reversion complete. Click 'Restart' to restart the machine."
RESTORE_DONE = "System restore complete. Click 'Restart' to restart the machine."
CAPTURE_DONE = "System state capture complete. Click 'Restart' to restart the machine."
RESTORED = {"factory": FACTORY_DONE, "user": RESTORE_DONE}  # by the kind of image restored
# Appendix B: red text on failure, followed by the code line of the error.
FAILED = "There was an error while trying to restore the factory image"
