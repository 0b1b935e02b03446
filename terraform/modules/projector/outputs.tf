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

output "event_source_mapping" {
  description = "The stream mapping's effective settings (for audits and the root stack's tests)."
  value = {
    batch_size                         = aws_lambda_event_source_mapping.stream.batch_size
    maximum_batching_window_in_seconds = aws_lambda_event_source_mapping.stream.maximum_batching_window_in_seconds
    maximum_retry_attempts             = aws_lambda_event_source_mapping.stream.maximum_retry_attempts
    maximum_record_age_in_seconds      = aws_lambda_event_source_mapping.stream.maximum_record_age_in_seconds
    bisect_batch_on_function_error     = aws_lambda_event_source_mapping.stream.bisect_batch_on_function_error
    parallelization_factor             = aws_lambda_event_source_mapping.stream.parallelization_factor
    function_response_types            = aws_lambda_event_source_mapping.stream.function_response_types
    starting_position                  = aws_lambda_event_source_mapping.stream.starting_position
    on_failure_destination_arn         = one(one(aws_lambda_event_source_mapping.stream.destination_config).on_failure).destination_arn
  }
}

output "iam_policies" {
  description = "Every IAM policy document this module writes, by name (JSON)."
  value = {
    projector_assume = aws_iam_role.this.assume_role_policy
    projector        = aws_iam_role_policy.this.policy
    purge_assume     = aws_iam_role.purge.assume_role_policy
    purge            = aws_iam_role_policy.purge.policy
    cascade_assume   = aws_iam_role.cascade.assume_role_policy
    cascade          = aws_iam_role_policy.cascade.policy
  }
}

output "purge_function_name" {
  description = "Name of the tombstone purge function (projector.purge.lambda_handler)."
  value       = aws_lambda_function.purge.function_name
}

output "purge_function_arn" {
  description = "ARN of the tombstone purge function."
  value       = aws_lambda_function.purge.arn
}

output "purge_role_arn" {
  description = "ARN of the purge's role (admit it in the search domain's access policy and map it to a purge role in fine-grained access control)."
  value       = aws_iam_role.purge.arn
}

output "purge_schedule" {
  description = "The purge's EventBridge rule: name, schedule expression and state (ENABLED or DISABLED)."
  value = {
    rule_name           = aws_cloudwatch_event_rule.purge.name
    rule_arn            = aws_cloudwatch_event_rule.purge.arn
    schedule_expression = aws_cloudwatch_event_rule.purge.schedule_expression
    state               = aws_cloudwatch_event_rule.purge.state
  }
}

output "purge_log_group_name" {
  description = "CloudWatch log group of the purge function."
  value       = aws_cloudwatch_log_group.purge.name
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue (the QueueName dimension of its CloudWatch metrics)."
  value       = aws_sqs_queue.dead_letter.name
}

output "on_failure_queue_name" {
  description = "Name of the on-failure queue (the QueueName dimension of its CloudWatch metrics)."
  value       = aws_sqs_queue.on_failure.name
}

output "cascade_function_name" {
  description = "Name of the review cascade function (projector.cascade.lambda_handler)."
  value       = aws_lambda_function.cascade.function_name
}

output "cascade_function_arn" {
  description = "ARN of the review cascade function."
  value       = aws_lambda_function.cascade.arn
}

output "cascade_role_arn" {
  description = "ARN of the review cascade's role (reads the stream; GetItem, Query and DeleteItem on the table only)."
  value       = aws_iam_role.cascade.arn
}

output "cascade_on_failure_queue_url" {
  description = "URL of the review cascade mapping's on-failure destination (metadata of batches it gave up on)."
  value       = aws_sqs_queue.cascade_on_failure.url
}

output "cascade_on_failure_queue_name" {
  description = "Name of the review cascade's on-failure queue (the QueueName dimension of its CloudWatch metrics)."
  value       = aws_sqs_queue.cascade_on_failure.name
}

output "cascade_event_source_mapping" {
  description = "The review cascade mapping's effective settings and filter patterns (JSON strings)."
  value = {
    uuid                           = aws_lambda_event_source_mapping.cascade.uuid
    enabled                        = aws_lambda_event_source_mapping.cascade.enabled
    batch_size                     = aws_lambda_event_source_mapping.cascade.batch_size
    maximum_retry_attempts         = aws_lambda_event_source_mapping.cascade.maximum_retry_attempts
    maximum_record_age_in_seconds  = aws_lambda_event_source_mapping.cascade.maximum_record_age_in_seconds
    bisect_batch_on_function_error = aws_lambda_event_source_mapping.cascade.bisect_batch_on_function_error
    function_response_types        = aws_lambda_event_source_mapping.cascade.function_response_types
    filter_patterns                = [for f in one(aws_lambda_event_source_mapping.cascade.filter_criteria).filter : f.pattern]
    on_failure_destination_arn     = one(one(aws_lambda_event_source_mapping.cascade.destination_config).on_failure).destination_arn
  }
}

output "cascade_log_group_name" {
  description = "CloudWatch log group of the review cascade."
  value       = aws_cloudwatch_log_group.cascade.name
}
