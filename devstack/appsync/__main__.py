"""`python -m devstack.appsync`: see devstack/appsync/cli.py."""

from devstack.appsync.cli import main

raise SystemExit(main())
