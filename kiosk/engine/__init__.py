"""The queue: the engine (one durable transaction per command), its read models, the event hub,
the command loop, peak alerts and statistics."""
