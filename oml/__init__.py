"""OML pipelines: YAML pipelines, validation, deterministic manifests, stream topologies, run logs.

It compiles and runs declared pipelines; it must not bypass the registry or the residency gate.
"""
