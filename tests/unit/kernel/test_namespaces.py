"""Which streams belong to a namespace: its own, and with `derived` those named after it."""

from __future__ import annotations

from kernel.namespaces import in_namespace


def test_a_namespace_owns_its_event_streams_and_buckets_only() -> None:
    for stream in ("T1A2B_COMPUTE", "KV_t1a2b_request_logs_names", "OBJ_t1a2b_reports"):
        assert in_namespace(stream, "t1a2b")
    for stream in ("T1A2BC3_COMPUTE", "KV_t1a2bg9_names", "T1A2_COMPUTE", "XT1A2B_COMPUTE"):
        assert not in_namespace(stream, "t1a2b")


def test_derived_namespaces_are_those_named_after_it() -> None:
    for stream in ("T1A2BC3F_COMPUTE", "OBJ_t1a2bbench_request_logs", "KV_t1a2bg9_names"):
        assert in_namespace(stream, "t1a2b", derived=True)
    for stream in ("T1A2_COMPUTE", "KV_x1a2b_names", "T9A2B_COMPUTE"):
        assert not in_namespace(stream, "t1a2b", derived=True)
