resource "aws_cloudwatch_log_group" "domain" {
  for_each          = local.create_domain ? toset(["ES_APPLICATION_LOGS", "AUDIT_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS"]) : toset([])
  name              = "/aws/opensearch/${var.name}/${lower(each.key)}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = local.tags
}

# OpenSearch Service writes the logs itself; only it, and only for this domain, may.
resource "aws_cloudwatch_log_resource_policy" "domain" {
  count       = local.create_domain ? 1 : 0
  policy_name = "${var.name}-opensearch-logs"
  policy_document = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "es.amazonaws.com" }
      Action    = ["logs:PutLogEvents", "logs:CreateLogStream"]
      Resource  = [for group in aws_cloudwatch_log_group.domain : "${group.arn}:*"]
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${data.aws_partition.current.partition}:es:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:domain/${var.name}" }
      }
    }]
  })
}

resource "aws_opensearch_domain" "this" {
  #checkov:skip=CKV_AWS_137:AppSync's OpenSearch data source reaches only public domain endpoints; access is IAM-signed with fine-grained access control.
  #checkov:skip=CKV_AWS_248:No VPC: a public endpoint has no security group (see CKV_AWS_137).
  #checkov:skip=CKV_AWS_318:Dedicated masters come from the profile: prod has 3 (asserted by terraform test), dev has none by choice.
  #checkov:skip=CKV2_AWS_59:Same as CKV_AWS_318: prod has dedicated masters, dev deliberately not.
  #checkov:skip=CKV_AWS_247:Encryption at rest is always on; a customer-managed key is opt-in through var.kms_key_arn.
  count          = local.create_domain ? 1 : 0
  domain_name    = var.name
  engine_version = var.engine_version

  cluster_config {
    instance_type            = local.cluster.instance_type
    instance_count           = local.cluster.instance_count
    zone_awareness_enabled   = local.cluster.availability_zones > 1
    dedicated_master_enabled = local.cluster.dedicated_master_count > 0
    dedicated_master_type    = local.cluster.dedicated_master_count > 0 ? local.cluster.dedicated_master_type : null
    dedicated_master_count   = local.cluster.dedicated_master_count > 0 ? local.cluster.dedicated_master_count : null

    dynamic "zone_awareness_config" {
      for_each = local.cluster.availability_zones > 1 ? [local.cluster.availability_zones] : []
      content {
        availability_zone_count = zone_awareness_config.value
      }
    }
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = local.cluster.volume_size_gb
  }

  encrypt_at_rest {
    enabled    = true
    kms_key_id = var.kms_key_arn
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = "Policy-Min-TLS-1-2-PFS-2023-10"
  }

  advanced_security_options {
    enabled                        = true
    anonymous_auth_enabled         = false
    internal_user_database_enabled = false
    master_user_options {
      master_user_arn = var.master_user_arn
    }
  }

  # Written out (not dynamic) so checkov sees the audit log.
  log_publishing_options {
    log_type                 = "ES_APPLICATION_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["ES_APPLICATION_LOGS"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "AUDIT_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["AUDIT_LOGS"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "INDEX_SLOW_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["INDEX_SLOW_LOGS"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "SEARCH_SLOW_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["SEARCH_SLOW_LOGS"].arn
    enabled                  = true
  }

  software_update_options {
    auto_software_update_enabled = true
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = local.cluster.instance_count % local.cluster.availability_zones == 0
      error_message = "The data node count must be a multiple of the availability zone count."
    }
    precondition {
      condition     = local.cluster.dedicated_master_count == 0 || local.cluster.dedicated_master_type != null
      error_message = "Dedicated masters need a dedicated_master_type."
    }
  }

  depends_on = [aws_cloudwatch_log_resource_policy.domain]
}

# Admits only the writers, the readers and the master, each to its own paths.
resource "aws_opensearch_domain_policy" "this" {
  count       = local.create_domain ? 1 : 0
  domain_name = aws_opensearch_domain.this[0].domain_name
  access_policies = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      length(var.writer_role_arns) == 0 ? [] : [
        {
          Sid       = "ProjectorWritesTheReadModel"
          Effect    = "Allow"
          Principal = { AWS = var.writer_role_arns }
          Action    = ["es:ESHttpPost"]
          Resource  = [for path in local.writer_bulk_paths : "${aws_opensearch_domain.this[0].arn}/${path}"]
        },
        {
          Sid       = "ProjectorResolvesTheWriteAliases"
          Effect    = "Allow"
          Principal = { AWS = var.writer_role_arns }
          Action    = ["es:ESHttpGet"]
          Resource  = [for path in local.writer_alias_paths : "${aws_opensearch_domain.this[0].arn}/${path}"]
        },
      ],
      length(var.purger_role_arns) == 0 ? [] : [{
        Sid       = "PurgeDeletesOldTombstones"
        Effect    = "Allow"
        Principal = { AWS = var.purger_role_arns }
        Action    = ["es:ESHttpGet", "es:ESHttpPost"]
        Resource  = [for path in local.purger_paths : "${aws_opensearch_domain.this[0].arn}/${path}"]
      }],
      length(var.reader_role_arns) == 0 ? [] : [{
        Sid       = "ApiSearchesTheReadAliases"
        Effect    = "Allow"
        Principal = { AWS = var.reader_role_arns }
        Action    = ["es:ESHttpGet", "es:ESHttpPost"]
        Resource  = [for path in local.reader_paths : "${aws_opensearch_domain.this[0].arn}/${path}"]
      }],
      [{
        Sid       = "MasterAdministers"
        Effect    = "Allow"
        Principal = { AWS = [var.master_user_arn] }
        Action    = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch"]
        Resource  = ["${aws_opensearch_domain.this[0].arn}/*"]
      }],
    )
  })
}
