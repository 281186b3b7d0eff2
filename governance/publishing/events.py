"""Action codes recorded by the publishing services."""

from assay.audit.registry import register

register("publishing.endpoint.created", "Webhook endpoint added",
         "An owner added a webhook endpoint to a project (its secret is never recorded).")
register("publishing.endpoint.updated", "Webhook endpoint changed",
         "An owner changed a webhook endpoint's address, name, events or turned it on or off.")
register("publishing.delivery.sent", "Delivery sent",
         "A publisher delivered a signed asset (or a test ping) to a destination.")
register("publishing.delivery.failed", "Delivery failed",
         "A delivery gave up after its last attempt, or was refused at once.")
register("publishing.delivery.redelivered", "Redelivery asked for",
         "An owner asked for a delivery to be sent again (a new delivery, same event id).")
register("publishing.ping.requested", "Test ping sent",
         "An owner sent a test ping to a webhook endpoint.")
register("publishing.endpoint.deleted", "Webhook endpoint removed",
         "An owner removed a webhook endpoint and its delivery log.")
