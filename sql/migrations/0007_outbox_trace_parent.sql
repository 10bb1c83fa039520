-- 0007_outbox_trace_parent.sql: a queued message remembers the trace of the request that queued it
-- (W3C `traceparent`), so that its delivery, on any worker and however much later, continues that
-- trace (storefront/platform/outbox.py). The column takes its value from the transaction's
-- `storefront.trace_parent` setting, which a write transaction sets only while tracing is on and its
-- request is sampled: the statements that queue mail stay as they are, and with tracing off nothing
-- is set and the column stays NULL.

ALTER TABLE outbox
    ADD COLUMN trace_parent text DEFAULT nullif(current_setting('storefront.trace_parent', true), ''),
    ADD CONSTRAINT outbox_trace_parent_check CHECK (trace_parent ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');
