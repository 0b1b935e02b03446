# The read model's home: an OpenSearch Service domain (default) or an OpenSearch Serverless collection.
locals {
  create_domain     = var.engine == "domain"
  create_collection = var.engine == "serverless"
  tags              = merge({ "appsync-cqrs:component" = "search" }, var.tags)

  profiles = {
    # One node, no standby: cheap, and a node failure means a rebuild from the table (the stream replays).
    dev = {
      instance_type          = "t3.small.search"
      instance_count         = 1
      availability_zones     = 1
      dedicated_master_type  = null
      dedicated_master_count = 0
      volume_size_gb         = 10
    }
    # Survives the loss of an AZ: 3 data nodes in 3 AZs, and a 3-node dedicated master quorum.
    prod = {
      instance_type          = "r6g.large.search"
      instance_count         = 3
      availability_zones     = 3
      dedicated_master_type  = "m6g.large.search"
      dedicated_master_count = 3
      volume_size_gb         = 100
    }
  }
  cluster = merge(local.profiles[var.profile], { for key, value in var.cluster : key => value if value != null })

  # Index families and their aliases: definitions/indices.json, which the projector (bundled in its zip),
  # the ops commands and the local stack read too (docs/design.md §4).
  index_families = values(jsondecode(file("${path.module}/../../definitions/indices.json")))
  write_aliases  = [for family in local.index_families : family.write_alias]
  read_aliases   = [for family in local.index_families : family.read_alias]
  index_patterns = [for family in local.index_families : "${family.index_prefix}*"]

  # Paths each kind of caller may touch (docs/design.md §4): writers the write side, readers only searches
  # through the read aliases.
  # The projector's two requests (POST /_bulk, GET /_alias/<write alias>); the indices named inside a _bulk
  # body are limited by fine-grained access control (scripts/search_access.py), which IAM cannot see.
  writer_bulk_paths  = ["_bulk"]
  writer_alias_paths = [for alias in local.write_aliases : "_alias/${alias}"]
  reader_paths       = flatten([for action in ["_search", "_count"] : [for alias in local.read_aliases : "${alias}/${action}"]])
  # The tombstone purge: look up the write aliases, delete by query in the entity indices.
  purger_paths = concat([for alias in local.write_aliases : "_alias/${alias}"], [for pattern in local.index_patterns : "${pattern}/_delete_by_query"])
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
