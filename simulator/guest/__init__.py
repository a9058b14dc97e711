"""Guest artifacts for the libvirt tier: a Debian kernel, the Recovery Environment initramfs that the
DriveKey boots, and the appliance initramfs that installed systems boot. Built, never committed, and
cached by the hash of their inputs (:mod:`simulator.guest.cache`).

- :mod:`~simulator.guest.artifacts`: the current set (``build``, ``artifacts``, ``ensure_built``, ``status``);
- :mod:`~simulator.guest.bootfiles`: puts a set on a server's DriveKey and installed system;
- :mod:`~simulator.guest.builds`, :mod:`~simulator.guest.kernel`, :mod:`~simulator.guest.userland`,
  :mod:`~simulator.guest.initramfs`, :mod:`~simulator.guest.debian`: how each part is built;
- :mod:`~simulator.guest.accel`: the accelerator the last probe chose on this machine.
"""
