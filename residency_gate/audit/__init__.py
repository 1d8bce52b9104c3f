"""The tamper-evident audit log: sealed records in a hash chain, RFC 6962 Merkle checkpoints, verification.

Pure functions over records and keys; storing, publishing and scheduling checkpoints belong to the service.
"""

from residency_gate.audit.checkpoint import (
    CHECKPOINT_KIND,
    Checkpoint,
    checkpoint_from_message,
    checkpoint_message,
    checkpoint_signature_problem,
    sign_checkpoint,
    sign_root,
)
from residency_gate.audit.export import (
    CSV_COLUMNS,
    jsonl_line,
    parse_jsonl,
    read_checkpoints,
    read_jsonl,
    records_to_csv,
    write_checkpoints,
    write_jsonl,
)
from residency_gate.audit.keys import (
    generate_private_key_pem,
    key_id,
    load_private_key,
    load_public_key,
    public_key_pem,
)
from residency_gate.audit.merkle import EMPTY_ROOT, MerkleAccumulator, leaf_hash, merkle_root, node_hash
from residency_gate.audit.record import (
    GENESIS_HASH,
    canonical_json,
    decision_body,
    declassification_body,
    finding_body,
    format_time,
    policy_change_body,
    record_hash,
    seal,
)
from residency_gate.audit.verify import VerifyReport, verify_log

__all__ = [
    "CHECKPOINT_KIND",
    "CSV_COLUMNS",
    "EMPTY_ROOT",
    "GENESIS_HASH",
    "Checkpoint",
    "MerkleAccumulator",
    "VerifyReport",
    "canonical_json",
    "checkpoint_from_message",
    "checkpoint_message",
    "checkpoint_signature_problem",
    "decision_body",
    "declassification_body",
    "finding_body",
    "format_time",
    "generate_private_key_pem",
    "jsonl_line",
    "key_id",
    "leaf_hash",
    "load_private_key",
    "load_public_key",
    "merkle_root",
    "node_hash",
    "parse_jsonl",
    "policy_change_body",
    "public_key_pem",
    "read_checkpoints",
    "read_jsonl",
    "record_hash",
    "records_to_csv",
    "seal",
    "sign_checkpoint",
    "sign_root",
    "verify_log",
    "write_checkpoints",
    "write_jsonl",
]
