"""Apply a stack's fine-grained access control roles and role mappings on its OpenSearch domain.

    python scripts/search_access.py --terraform-dir terraform            # apply (after terraform apply)
    python scripts/search_access.py --terraform-dir terraform --dry-run  # show what would change
    terraform -chdir=terraform output -json > outputs.json
    python scripts/search_access.py --outputs-file outputs.json --json

Three roles, least privilege, named from terraform/definitions/indices.json (ops/search_access.py):
projector_writer (mapped to output projector_role_arn), tombstone_purger (projector_purge_role_arn),
search_reader (api_search_role_arn). Each is read first and written only if it differs: a second run
reports every role and mapping `unchanged`. Run it with the credentials of the domain's fine-grained access
control master (search.master_user_arn); other callers get HTTP 403.

Exit codes: 0 done (or, with --dry-run, nothing to change); 1 --dry-run found changes to make; 2 the
command could not do its job (denied, unreachable, an answer of the wrong shape, outputs missing).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ops import cli
from ops.search_access import SecurityApi, apply, desired_roles, load_outputs, stack_roles
from projector.names import INDEX_FAMILIES
from projector.transport import Transport
from stackclient.errors import StackConfigError
from stackclient.stack import infer_search_auth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="search_access.py", description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "-t", "--terraform-dir", help="the stack's Terraform root module (terraform output -json)"
    )
    where.add_argument("-o", "--outputs-file", help="a file holding `terraform output -json` of the stack")
    parser.add_argument(
        "-p",
        "--index-prefix",
        default=os.environ.get("INDEX_PREFIX", ""),
        help="prefix of every index, alias and role name, as the projector's INDEX_PREFIX (default: none)",
    )
    parser.add_argument("-n", "--dry-run", action="store_true", help="read and compare only; change nothing")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    args = parser.parse_args(argv)

    def command() -> int:
        outputs = load_outputs(args.terraform_dir, args.outputs_file)
        endpoint, region = outputs.get("search_endpoint"), outputs.get("region")
        if not isinstance(endpoint, str) or not isinstance(region, str):
            raise StackConfigError("the Terraform outputs lack search_endpoint or region")
        auth = infer_search_auth(endpoint)
        if auth == "sigv4-aoss":
            raise StackConfigError(
                "a Serverless collection has no security plugin: its data access policy (modules/search) "
                "already names the roles"
            )
        specs = desired_roles(INDEX_FAMILIES.values(), stack_roles(outputs), args.index_prefix)
        transport = Transport(endpoint, auth=auth, region=region, read_timeout=args.timeout)
        report = apply(SecurityApi(transport, args.timeout), specs, dry_run=args.dry_run)
        lines = [change.line(args.dry_run) for change in report.changes]
        counts = ", ".join(f"{count} {action}" for action, count in report.counts().items())
        lines.append(f"{'dry run: ' if args.dry_run else ''}{counts}")
        cli.emit(args, "\n".join(lines), report.as_json())
        return cli.EXIT_ATTENTION if args.dry_run and report.pending else cli.EXIT_OK

    return cli.run(command)


if __name__ == "__main__":
    sys.exit(main())
