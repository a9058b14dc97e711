"""libvirt and QEMU, knowing nothing of the simulated servers: a connection (and the daemons behind it),
the domain XML of a :class:`~simulator.virt.domain.DomainSpec`, the line protocols of its virtio-serial
channels and the accelerator probe. :mod:`simulator.backends.libvirt_backend` fills them from the server.
"""
