"""OML pipelines (to come): YAML pipelines, validation, deterministic manifests, stream topologies, run logs.

It will compile and run declared pipelines; it must not bypass the registry or the residency gate.
"""
