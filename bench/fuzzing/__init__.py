"""The bad-input campaigns of bench/fuzz_campaign.py, one module per kind of input."""
