# The single-table design of docs/design.md §1. Keys, GSIs, TTL and the stream view type come from
# definitions/table.json, which the local stack reads too: what runs locally is what deploys.
locals {
  definition = jsondecode(file("${path.module}/../../definitions/table.json"))
  tags       = merge({ "appsync-cqrs:component" = "table" }, var.tags)
}

resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = local.definition.billing_mode
  hash_key                    = local.definition.hash_key
  range_key                   = local.definition.range_key
  deletion_protection_enabled = var.deletion_protection_enabled

  # The projector needs both images: the new one to index, the old one for a REMOVE's version.
  stream_enabled   = true
  stream_view_type = local.definition.stream_view_type

  dynamic "attribute" {
    for_each = local.definition.attributes
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "global_secondary_index" {
    for_each = local.definition.global_secondary_indexes
    content {
      name            = global_secondary_index.value.name
      hash_key        = global_secondary_index.value.hash_key
      range_key       = global_secondary_index.value.range_key
      projection_type = global_secondary_index.value.projection_type
    }
  }

  ttl {
    enabled        = true
    attribute_name = local.definition.ttl_attribute
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery_enabled
  }

  #checkov:skip=CKV_AWS_119:Encryption is always on; a customer-managed key is opt-in through var.kms_key_arn.
  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = local.tags
}
