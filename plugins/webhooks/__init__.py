"""First-party publisher: signed JSON webhooks (the wire protocol only; owners' endpoints,
the delivery log and retries live in ``governance.publishing``)."""
