"""The typed, validated settings of `kiosk.toml` (pydantic models only; building devices from
them is the composition root's job, `kiosk.app.hardware`)."""
