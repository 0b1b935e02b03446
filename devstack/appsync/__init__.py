"""A local AWS AppSync endpoint that runs the project's schema and unmodified APPSYNC_JS resolvers.

`python -m devstack.appsync serve ...` (docs/design.md §8). Divergences from AppSync: README.md here.
"""

# The one IAM key pair the endpoint accepts, read from its environment (never argv: any local user sees a
# command line in `ps`). The local stack makes a pair per stack (devstack/stack.py, stack.json
# `auth.iam_credentials`).
ACCESS_KEY_ENV = "APPSYNC_LOCAL_ACCESS_KEY_ID"
SECRET_KEY_ENV = "APPSYNC_LOCAL_SECRET_ACCESS_KEY"
