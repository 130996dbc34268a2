"""Side-by-side throughput benchmarks (``make bench``)."""
