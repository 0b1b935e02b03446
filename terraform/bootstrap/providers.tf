provider "aws" {
  region = var.region

  default_tags {
    tags = merge({ "appsync-cqrs:component" = "bootstrap" }, var.tags)
  }
}
