"""notify's application layer: the offer handler and the delivery worker."""
