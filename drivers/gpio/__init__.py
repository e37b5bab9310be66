"""GPIO devices (gpiozero): keypads, take-ticket buttons and rating pads; lamps, buzzer, stack
light."""
