"""A small text-console toolkit: 80x25 screens with colours (``screen``), terminal keys decoded and
encoded (``keys``), a raw terminal that shows screens and reads keys (``terminal``), and untrusted text
made printable as ``cat -v`` shows it (``visible``).

Both the Interaction Recovery utility and the simulated firmware draw and read with it, so it imports
neither: what is particular to one console (the HP BIOS's serial escapes) is that console's own.
"""
