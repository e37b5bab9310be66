"""Hardware abstraction: small device interfaces with real, virtual and mock implementations."""
