"""Scale-out on Ray Serve (``rtt serve --ray``): the same FastAPI app as ingress replicas behind
Ray's HTTP proxy, and MT tiers as model pools of their own (docs/deploy.md).  ``make serve``
never imports this package: the single-process service stays what it was."""
