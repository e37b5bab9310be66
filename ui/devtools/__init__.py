"""Development tools for the screens: a headless harness (tests, screenshots, benchmark), the
screenshot script and a windowed kiosk. The only part of `ui` that builds a `KioskApp` itself."""
