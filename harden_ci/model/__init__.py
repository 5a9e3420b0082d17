"""The spec model (Pydantic v2): what a valid harden-ci.yaml is."""

from harden_ci.model.spec import Spec
from harden_ci.model.validate import parse_spec, spec_json_schema

__all__ = ["Spec", "parse_spec", "spec_json_schema"]
