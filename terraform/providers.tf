provider "aws" {
  region = var.region

  # Tags every resource that supports them; the modules add their component tag.
  default_tags {
    tags = merge({ "appsync-cqrs:stack" = var.name, "appsync-cqrs:environment" = var.environment }, var.tags)
  }
}
