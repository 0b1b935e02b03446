output "endpoint" {
  description = "https:// endpoint of the domain or collection (the projector's OPENSEARCH_ENDPOINT)."
  value       = local.create_domain ? "https://${aws_opensearch_domain.this[0].endpoint}" : aws_opensearchserverless_collection.this[0].collection_endpoint
}

output "resource_arn" {
  description = "ARN of the domain or collection (IAM policies are scoped to paths below it)."
  value       = local.create_domain ? aws_opensearch_domain.this[0].arn : aws_opensearchserverless_collection.this[0].arn
}

output "auth" {
  description = "How clients sign requests: sigv4 (service es) for a domain, sigv4-aoss for a collection."
  value       = local.create_domain ? "sigv4" : "sigv4-aoss"
}

output "engine" {
  description = "domain or serverless, as chosen."
  value       = var.engine
}

output "log_group_names" {
  description = "CloudWatch log groups of the domain, by log type (empty for a collection)."
  value       = { for type, group in aws_cloudwatch_log_group.domain : type => group.name }
}

output "cluster" {
  description = "Effective domain sizing (profile plus overrides); null for a collection."
  value       = local.create_domain ? local.cluster : null
}

output "security" {
  description = "The domain's encryption, TLS and access-control settings as planned; null for a collection."
  value = local.create_domain ? {
    encrypt_at_rest         = one(aws_opensearch_domain.this[0].encrypt_at_rest).enabled
    node_to_node_encryption = one(aws_opensearch_domain.this[0].node_to_node_encryption).enabled
    enforce_https           = one(aws_opensearch_domain.this[0].domain_endpoint_options).enforce_https
    tls_security_policy     = one(aws_opensearch_domain.this[0].domain_endpoint_options).tls_security_policy
    # The block holds the (unused) master password, so Terraform marks it sensitive; these flags are not.
    fine_grained_access      = nonsensitive(one(aws_opensearch_domain.this[0].advanced_security_options).enabled)
    internal_user_database   = nonsensitive(one(aws_opensearch_domain.this[0].advanced_security_options).internal_user_database_enabled)
    audit_logs_published     = contains([for option in aws_opensearch_domain.this[0].log_publishing_options : option.log_type if option.enabled], "AUDIT_LOGS")
    zone_awareness_enabled   = one(aws_opensearch_domain.this[0].cluster_config).zone_awareness_enabled
    dedicated_master_enabled = one(aws_opensearch_domain.this[0].cluster_config).dedicated_master_enabled
  } : null
}

output "iam_policies" {
  description = "Every IAM-style policy document this module writes, by name (JSON)."
  value = merge(
    local.create_domain ? {
      domain_access = aws_opensearch_domain_policy.this[0].access_policies
      log_delivery  = aws_cloudwatch_log_resource_policy.domain[0].policy_document
    } : {},
    local.create_collection ? { collection_data_access = aws_opensearchserverless_access_policy.this[0].policy } : {},
  )
}
