"""The composition root: builds the running kiosk from its settings and wires drivers and screens
to the core. The only core package that imports `drivers` or `ui`."""
