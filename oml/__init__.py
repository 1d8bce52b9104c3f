"""OML pipelines (to come): YAML pipeline parsing and validation, deterministic manifests, stream topologies, run logs.

It will compile and run declared pipelines; it must not bypass the registry or the residency gate.
"""
