"""Report stage: compare finished runs and sweeps (tables, hall of fame) and plot them (`azc report`)."""
