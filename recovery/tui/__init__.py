"""A small text-mode toolkit shared by the Recovery Environment and the simulated firmware:
80x25 screens with colours, and decoding of terminal key sequences."""
