output "function_name" {
  description = "Name of the projector function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the projector function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the projector's role (admit it in the search domain's access policy and map it to a writer role in fine-grained access control)."
  value       = aws_iam_role.this.arn
}

output "dead_letter_queue_url" {
  description = "URL of the queue that receives poison records."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_queue_arn" {
  description = "ARN of the queue that receives poison records."
  value       = aws_sqs_queue.dead_letter.arn
}

output "on_failure_queue_url" {
  description = "URL of the event source mapping's on-failure destination (batch metadata)."
  value       = aws_sqs_queue.on_failure.url
}

output "event_source_mapping_uuid" {
  description = "UUID of the stream event source mapping."
  value       = aws_lambda_event_source_mapping.stream.uuid
}

output "log_group_name" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.this.name
}
