"""The speed benchmark: workload generation and measurements (see bench/README.md)."""
