"""The link to HQ: the MQTT client, the command protocol and topics (shared with the HQ server),
and the kiosk's telemetry (`telemetry.Telemetry` and its parts)."""
