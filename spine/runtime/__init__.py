"""Running the whole spine on one machine: the service table, the supervisor and its state file."""
