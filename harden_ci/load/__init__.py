"""Load a spec file: bytes → plain Python data, with the line and column of every node."""

from harden_ci.load.yaml_source import Limits, LoadedSpec, load_spec_file, load_spec_text

__all__ = ["Limits", "LoadedSpec", "load_spec_file", "load_spec_text"]
