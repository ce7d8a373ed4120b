"""GPU usage and cost ingest (DCGM, Slurm, usage CSV, FOCUS): parsers, batches, devices,
samples, the daily roll-up, cost records, external keys, and utilisation reads."""
