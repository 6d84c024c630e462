"""The composition root: configuration, the command line, the qasync loop and the wiring."""
