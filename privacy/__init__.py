"""Personal data: one masking function, masked trackers, retention and erasure (docs/security.md)."""
