"""What talks to a stack, local or deployed: finding it, its clients, seeding it, Lambda's wire shapes.

Both sides of the project use this package: the ops commands (deployed stacks) and the local emulator
(`devstack/`). It sits between them and the projector in the import layers written down in
pyproject.toml (`[tool.importlinter]`): it may import `projector`, never `ops`, `devstack` or `scripts`.
"""
