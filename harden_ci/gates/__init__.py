"""Runtime gates the generated workflows call through `harden-ci gate …`."""
