"""The AWS CDK app that deploys Switchboard: `python -m infra.cdk.app` (what `cdk synth`/`cdk deploy` run).

Every resource is derived from `infra.resources` (tables from the pynamodb models, queues, event sources) and the
settings model, so the code and the deployment cannot drift apart silently; `infra.cdk.checks` holds the
template checks the tests run on the synthesized template.

    app.py            entry point: reads the context, builds one stack, applies cdk-nag, synthesizes
    config.py         deployment parameters from CDK context (stage, region, domains, retention, media fleet)
    stack.py          the stack: composes the constructs below and declares the outputs
    storage.py        DynamoDB tables and the media bucket
    messaging.py      SQS FIFO delivery and dead-letter queues, the stream-failure queue
    keys.py           the keys secret (a generated seed the application derives its keys from)
    control_plane.py  the Chalice app (API Gateway + Lambda): roles, environment, event sources, domains
    media_fleet.py    the media nodes on ECS Fargate: VPC, signalling load balancer, UDP media, draining, scaling
    dockerfile.py     the media image's Dockerfile read without Docker: its ignore file and its checks
    access.py         which function (and the media task) may touch which table, queue and secret (least privilege)
    event_sources.py  the consumers' stream/queue mappings (ReportBatchItemFailures, retries, on-failure queue)
    domains.py        optional custom domains for the API and for call links
    gateway.py        API Gateway pieces Chalice cannot express: Infobip-envelope gateway responses
    nag.py            cdk-nag suppressions, each with its reason
    checks.py         pure checks over a synthesized template (no CDK import), used by tests/infra
"""
