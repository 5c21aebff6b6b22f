"""What the tests and the benchmarks share: real servers, the spec check, the shipped models."""
