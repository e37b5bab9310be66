"""The HQ server: the monitor of every branch, the recorder, the terminal table and the web
dashboard. Shares only `kiosk.domain`, `kiosk.config` and the MQTT client with the kiosk."""
