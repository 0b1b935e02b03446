"""A local AWS AppSync endpoint that runs the project's schema and unmodified APPSYNC_JS resolvers.

`python -m devstack.appsync serve ...` (docs/design.md §8). Divergences from AppSync: README.md here.
"""
