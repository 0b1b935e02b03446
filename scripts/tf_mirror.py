"""Print the root of a local hashicorp/aws provider mirror (the folder holding `registry.terraform.io`).

Order: $TF_PROVIDER_MIRROR, then the places machine images put it. Exit 1 when none is found.
Used by the tests and CI to write a Terraform CLI config with a `filesystem_mirror` block.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROVIDER = Path("registry.terraform.io/hashicorp/aws")
CANDIDATES = [
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d/plugins",
    Path("/usr/share/terraform/plugins"),
]


def find_mirror() -> Path | None:
    env = os.environ.get("TF_PROVIDER_MIRROR")
    roots = [Path(env)] if env else CANDIDATES
    return next((root for root in roots if (root / PROVIDER).is_dir()), None)


if __name__ == "__main__":
    mirror = find_mirror()
    if mirror is None:
        sys.exit("no provider mirror with registry.terraform.io/hashicorp/aws; set TF_PROVIDER_MIRROR")
    print(mirror)
