-- Due events per endpoint: the sender looks only at endpoints with free slots, so a backlog
-- for a saturated or stuck endpoint costs nothing to step over.
CREATE INDEX webhook_outbox_endpoint_due ON webhook_outbox(endpoint, next_attempt_at_ms)
    WHERE status = 'PENDING';
