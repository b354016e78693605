"""Entry point: `python -m infra.cdk.app` (what `cdk synth`/`cdk deploy` run, see infra/cdk.json).

Synthesis is offline: no AWS credentials, no Docker, no network (Chalice reuses its packaged dependencies from
`.chalice/deployments/` once built). Context: `-c stage=dev|prod`, `-c region=...` (or AWS_REGION), the custom
domains (`domainName`, `certificateArn`, `callLinkDomainName`, `callLinkCertificateArn`, `hostedZoneId`),
`retainData`, `logRetentionDays`, `tablePrefix`; for the media fleet `signallingDomainName` (+
`signallingCertificateArn`), `iceServers` (JSON list) or `iceServersSecretArn`, `mediaMinTasks`, `mediaMaxTasks`,
`mediaDrainSeconds`.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.cdk.config import DeploymentConfig
from infra.cdk.nag import suppress_findings
from infra.cdk.stack import SwitchboardStack


def build_app(
    context: dict[str, Any] | None = None, outdir: str | None = None, *, acknowledge: bool = True
) -> tuple[App, SwitchboardStack]:
    """The app with its one stack and the AwsSolutions checks attached: `app.synth()` runs them and fails on any
    finding not acknowledged in `nag.py` (`acknowledge=False` leaves them all out, for the tests)."""
    app = App(context=context, outdir=outdir)
    stack = SwitchboardStack(app, DeploymentConfig.from_context(app.node))
    if acknowledge:
        suppress_findings(stack)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
