# Plans the module against a mocked AWS provider: no account, no network.
mock_provider "aws" {
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn        = "arn:aws:dynamodb:us-east-1:123456789012:table/cqrs-test"
      stream_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/cqrs-test/stream/2026-01-01T00:00:00.000"
    }
  }
}

variables {
  name = "cqrs-test"
}

run "defaults_follow_the_shared_definition_and_are_secure" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.this.stream_enabled && aws_dynamodb_table.this.stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "the projector needs a NEW_AND_OLD_IMAGES stream"
  }

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "pk" && aws_dynamodb_table.this.range_key == "sk"
    error_message = "keys must be pk/sk (docs/design.md §1)"
  }

  assert {
    condition     = one([for gsi in aws_dynamodb_table.this.global_secondary_index : gsi if gsi.name == "byOwner" && gsi.hash_key == "gsi1pk" && gsi.range_key == "gsi1sk"]) != null
    error_message = "GSI byOwner on gsi1pk/gsi1sk is missing"
  }

  assert {
    condition     = one(aws_dynamodb_table.this.ttl).enabled && one(aws_dynamodb_table.this.ttl).attribute_name == "expiresAt"
    error_message = "TTL must be on expiresAt"
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "the table must be on-demand"
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled == true
    error_message = "deletion protection must be on by default"
  }

  assert {
    condition     = one(aws_dynamodb_table.this.point_in_time_recovery).enabled
    error_message = "point-in-time recovery must be on by default"
  }

  assert {
    condition     = one(aws_dynamodb_table.this.server_side_encryption).enabled
    error_message = "server-side encryption must be on"
  }

  assert {
    condition     = output.table_index_arns["byOwner"] == "arn:aws:dynamodb:us-east-1:123456789012:table/cqrs-test/index/byOwner"
    error_message = "index ARNs must name the index, not a wildcard"
  }
}

run "customer_managed_key_and_tags" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-aaaa-bbbb-cccc-000000000000"
    tags        = { team = "search" }
  }

  assert {
    condition     = one(aws_dynamodb_table.this.server_side_encryption).kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-aaaa-bbbb-cccc-000000000000"
    error_message = "the customer-managed key must be used when given"
  }

  assert {
    condition     = aws_dynamodb_table.this.tags["team"] == "search" && aws_dynamodb_table.this.tags["appsync-cqrs:component"] == "table"
    error_message = "caller tags must be merged with the module's own"
  }
}

run "rejects_bad_table_name" {
  command = plan

  variables {
    name = "no spaces allowed"
  }

  expect_failures = [var.name]
}

run "rejects_a_key_that_is_not_an_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/my-key"
  }

  expect_failures = [var.kms_key_arn]
}
