output "table_name" {
  description = "Name of the table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the table."
  value       = aws_dynamodb_table.this.arn
}

output "table_stream_arn" {
  description = "ARN of the table's stream (NEW_AND_OLD_IMAGES)."
  value       = aws_dynamodb_table.this.stream_arn
}

output "table_index_arns" {
  description = "ARNs of the global secondary indexes, by index name (for exact IAM resources)."
  value       = { for gsi in local.definition.global_secondary_indexes : gsi.name => "${aws_dynamodb_table.this.arn}/index/${gsi.name}" }
}

output "table_stream_view_type" {
  description = "What each stream record carries (NEW_AND_OLD_IMAGES)."
  value       = aws_dynamodb_table.this.stream_view_type
}

output "table_deletion_protection_enabled" {
  description = "Whether the table refuses deletion."
  value       = aws_dynamodb_table.this.deletion_protection_enabled
}
