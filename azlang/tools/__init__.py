"""Tool stage: program inspection and tuning built on the passes (show, ablate, tune); data, not printing."""
