-- Tracing (storefront/platform/tracing.py): what a write transaction does while tracing is on.

-- name: carry_trace
-- Gives every message this transaction queues in the outbox the trace of its request ($1, a W3C
-- traceparent): the outbox's trace_parent column defaults to this setting, which ends with the
-- transaction.
SELECT set_config('storefront.trace_parent', $1, true);
