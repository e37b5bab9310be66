"""Call displays: the board model, the Alpha and Epson encoders, ports, and the mock and virtual
displays."""
