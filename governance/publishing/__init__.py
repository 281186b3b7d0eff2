"""Publishing approved, signed assets onward: owners' webhook endpoints, the delivery log."""
