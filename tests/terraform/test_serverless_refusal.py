"""The root stack refuses `search.engine = "serverless"` and says why (terraform/README.md; issue 16, item 5).

`terraform test` (tests/serverless.tftest.hcl) proves the plan fails on `var.search`; it cannot see the
message. This test plans the real root module with the dev variable file and reads the error: variable
validation runs before any AWS call, so no account is needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tfkit import TERRAFORM_DIR, Terraform

SERVERLESS = 'search={engine="serverless",master_user_arn="arn:aws:iam::111122223333:role/search-admin"}'


def test_serverless_plan_fails_with_the_reason(
    terraform: Terraform, lambda_zip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No instance metadata lookups while the provider looks for credentials it will not get.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    data = tmp_path / "data"
    init = terraform.run(TERRAFORM_DIR, data, "init", "-input=false", "-no-color", "-backend=false")
    assert init.returncode == 0, init.output

    result = terraform.run(
        TERRAFORM_DIR,
        data,
        "plan",
        "-input=false",
        "-no-color",
        "-var-file=environments/dev.tfvars",
        f"-var=projector_package_file={lambda_zip}",
        f"-var={SERVERLESS}",
    )

    assert result.returncode != 0
    message = " ".join(result.output.split())
    assert 'search.engine = "serverless" is refused' in message, result.output
    for reason in ("version_type=external", "_refresh", "_delete_by_query", "aoss:DescribeCollectionItems"):
        assert reason in message, result.output
