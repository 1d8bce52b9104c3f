"""The ``spine`` command: one module per command group, thin over the services' libraries."""
