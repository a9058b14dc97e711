"""The step library of the conformance suite: the technician's actions of the Factory Image Restoration
Procedures, implemented once and driving `g7sim power-on` through a real pty.

Modules: :mod:`steps.console` (the console as the technician sees it: text, colours, the highlight bar),
:mod:`steps.lab` (the lab bench: `g7sim` commands that create servers, inflict faults and read their
state independently of the screens), :mod:`steps.technician` (one scenario's visits to the server),
:mod:`steps.options` (the suite's command-line options, a pytest plugin, and the settings they make),
and the step definitions by console: :mod:`steps.server_steps`, :mod:`steps.post_steps`,
:mod:`steps.orca_steps` (on :mod:`steps.orca`, ORCA's screens and moves), :mod:`steps.rbsu_steps`,
:mod:`steps.recovery_steps`.
"""
